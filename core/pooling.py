"""Max and average pooling window by window, and where the gradient goes on the way back (by autograd)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.errors import LabError

KINDS = ("max", "avg")
NOTES_RAMP = torch.arange(1.0, 17.0).reshape(4, 4)  # the notes' 4x4 example: 2x2 max pooling gives [[6, 8], [14, 16]]
NOTES_PATCH = torch.tensor([[0.1, 0.2], [0.8, 0.3]])  # max 0.8, average 0.35
NOTES_SMALL = torch.tensor([[1.0, 3.0], [2.0, 4.0]])  # max 4, average 2.5


@dataclass(frozen=True, eq=False)
class PoolStep:
    """One output cell: its window and, for max pooling, the input pixel that won."""

    channel: int
    row: int  # output cell
    col: int
    top: int  # the window's top-left corner in padded-input coordinates
    left: int
    window: torch.Tensor  # (k, k) values after padding (-inf border for max, 0 for average)
    value: float  # the output value
    winner: tuple[int, int] | None  # (row, col) in the unpadded input for max pooling, as torch picks it; None for avg
    tied: bool = False  # max pooling: several pixels share the maximum (torch picks the first in reading order)


@dataclass(frozen=True, eq=False)
class PoolTrace:
    """A whole pooling: output, one step per output cell (channel, then row-major), and the backward pass."""

    output: torch.Tensor  # same layout as the input: (H_out, W_out) or (C, H_out, W_out)
    steps: tuple[PoolStep, ...]
    grad_input: torch.Tensor  # d(sum(upstream * output)) / d input, by autograd; same shape as the input
    upstream: torch.Tensor  # the gradient arriving at the output (ones unless given)
    kind: str
    kernel: int
    stride: int
    padding: int

    def step(self, row: int, col: int, channel: int = 0) -> PoolStep:
        """The step of output cell (row, col) of a channel."""
        h_out, w_out = self.output.shape[-2:]
        return self.steps[(channel * h_out + row) * w_out + col]


def _whole(name: str, value: object) -> int:
    """An int setting (not a bool or a float), as torch demands."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LabError("pool.not_integer", name=name, value=value)
    return value


def pool_output_size(h: int, w: int, kernel: int, stride: int, padding: int) -> tuple[int, int]:
    """floor((H + 2P - K) / S) + 1 per side; LabError for the settings torch's pooling rejects."""
    kernel, stride, padding = _whole("kernel", kernel), _whole("stride", stride), _whole("padding", padding)
    if kernel < 1:
        raise LabError("pool.bad_kernel", kernel=kernel)
    if stride < 1:
        raise LabError("pool.bad_stride", stride=stride)
    if padding < 0:
        raise LabError("pool.negative_padding", padding=padding)
    if 2 * padding > kernel:
        raise LabError("pool.padding_too_large", padding=padding, kernel=kernel)
    if h + 2 * padding < kernel or w + 2 * padding < kernel:
        raise LabError("pool.kernel_too_large", kernel=kernel, h=h + 2 * padding, w=w + 2 * padding)
    return (h + 2 * padding - kernel) // stride + 1, (w + 2 * padding - kernel) // stride + 1


def pool_trace(x: torch.Tensor, kind: str = "max", kernel: int = 2, stride: int | None = None, padding: int = 0,
               upstream: torch.Tensor | None = None) -> PoolTrace:
    """Pool x ([H, W] or [C, H, W]) like F.max_pool2d / F.avg_pool2d; stride defaults to the kernel size, as there."""
    if kind not in KINDS:
        raise LabError("pool.bad_kind", kind=kind)
    if not isinstance(x, torch.Tensor) or x.dim() not in (2, 3) or x.numel() == 0:
        raise LabError("pool.bad_shape", shape=list(getattr(x, "shape", [])))
    if x.dtype == torch.bool or x.is_complex():
        raise LabError("pool.bad_dtype", dtype=str(x.dtype).replace("torch.", ""))
    stride = kernel if stride is None else stride
    chw = x.detach().float() if not x.is_floating_point() else x.detach()  # integers pooled as float32
    chw = chw if chw.dim() == 3 else chw.unsqueeze(0)  # (C, H, W)
    c, h, w = chw.shape
    h_out, w_out = pool_output_size(h, w, kernel, stride, padding)

    leaf = chw.clone().requires_grad_(True)
    if kind == "max":
        out, idx = F.max_pool2d(leaf, kernel, stride, padding, return_indices=True)  # (C, H_out, W_out)
    else:
        out, idx = F.avg_pool2d(leaf, kernel, stride, padding), None
    if upstream is not None and upstream.shape != (out.shape if x.dim() == 3 else out.shape[1:]):
        raise LabError("pool.bad_upstream", shape=list(upstream.shape), expected=list(out.shape[-x.dim():]))
    up = torch.ones_like(out) if upstream is None else upstream.detach().reshape(out.shape).to(out.dtype)
    out.backward(up)  # autograd routes the gradient: to each window's winner (max) or evenly (avg)

    fill = float("-inf") if kind == "max" else 0.0
    padded = F.pad(chw, (padding,) * 4, value=fill)  # (C, H + 2P, W + 2P)
    windows = padded.unfold(1, kernel, stride).unfold(2, kernel, stride)  # (C, H_out, W_out, k, k)
    values = out.detach().flatten().tolist()
    flat = windows.reshape(-1, kernel * kernel)  # (C*H_out*W_out, k*k)
    if idx is not None:
        winners = [divmod(int(i), w) for i in idx.flatten()]
        tied = ((flat == flat.max(1, keepdim=True).values).sum(1) > 1).tolist()
    else:
        winners, tied = [None] * len(values), [False] * len(values)
    steps = tuple(
        PoolStep(n // (h_out * w_out), (n // w_out) % h_out, n % w_out, ((n // w_out) % h_out) * stride,
                 (n % w_out) * stride, win, v, win_at, tie)
        for n, (win, v, win_at, tie) in enumerate(zip(windows.reshape(-1, kernel, kernel).unbind(0), values, winners,
                                                      tied)))
    squeeze = (lambda t: t) if x.dim() == 3 else (lambda t: t[0])
    return PoolTrace(squeeze(out.detach()), steps, squeeze(leaf.grad), squeeze(up), kind, kernel, stride, padding)
