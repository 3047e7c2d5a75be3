"""2-D convolution, one output cell at a time: every window, product and sum, checked against F.conv2d."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.data import normalize, to_unit
from core.errors import LabError

# The notes' worked example (a 5x5 binary picture) and their vertical edge detector.
NOTES_IMAGE = torch.tensor([[1, 1, 1, 0, 0],
                            [0, 1, 1, 1, 0],
                            [0, 0, 1, 1, 1],
                            [0, 0, 1, 1, 0],
                            [0, 1, 1, 0, 0]], dtype=torch.float32)
NOTES_KERNEL = torch.tensor([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=torch.float32)
NOTES_CLAIMED_TOP_LEFT = -3.0  # what the notes wrote; the true sum is -2 (see tests/test_conv.py)

KERNELS: dict[str, torch.Tensor] = {  # preset 3x3 kernels (cross-correlation, as nn.Conv2d applies them)
    "vertical": NOTES_KERNEL,  # the notes' edge detector: bright left, dark right -> positive
    "horizontal": NOTES_KERNEL.T.contiguous(),
    "sobel_x": torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]),
    "sobel_y": torch.tensor([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]]),
    "blur": torch.full((3, 3), 1 / 9),
    "sharpen": torch.tensor([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "identity": torch.tensor([[0.0, 0, 0], [0, 1, 0], [0, 0, 0]]),
}
INK, PAPER = (255, 160, 0), (20, 60, 170)  # colour_digit's orange ink on blue paper: the channels differ


@dataclass(frozen=True, eq=False)
class ConvStep:
    """One output cell: the window the kernel covers, the products and their sum."""

    row: int  # output cell
    col: int
    top: int  # the window's top-left corner, in padded-input coordinates
    left: int
    window: torch.Tensor  # (C, kh, kw) input values under the kernel, after padding (every dilation-th pixel)
    products: torch.Tensor  # (C, kh, kw) window * kernel
    channel_sums: torch.Tensor  # (C,) products summed per channel
    total: float  # products.sum() + bias


@dataclass(frozen=True, eq=False)
class ConvTrace:
    """A whole convolution: the output map and one step per output cell in row-major order."""

    output: torch.Tensor  # (H_out, W_out), equal to F.conv2d
    steps: tuple[ConvStep, ...]
    padded: torch.Tensor  # (C, H + 2P, W + 2P) the input with its border (zeros unless pad_value says otherwise)
    kernel: torch.Tensor  # (C, kh, kw)
    channel_outputs: torch.Tensor  # (C, H_out, W_out) each channel's share; they add up to output - bias
    bias: float
    stride: int
    padding: int
    dilation: int
    pad_value: float = 0.0  # what the border holds: nn.Conv2d's zeros, or e.g. the -1 background of a normalised digit

    def step(self, row: int, col: int) -> ConvStep:
        """The step of output cell (row, col)."""
        return self.steps[row * self.output.shape[1] + col]

    def field(self, row: int, col: int) -> tuple[list[int], list[int]]:
        """Padded-input rows and columns that output cell (row, col) reads (its receptive field)."""
        kh, kw = self.kernel.shape[1:]
        s = self.step(row, col)
        return ([s.top + self.dilation * i for i in range(kh)], [s.left + self.dilation * j for j in range(kw)])


def _whole(name: str, value: object) -> int:
    """An int setting (not a bool or a float), as torch demands."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LabError("conv.not_integer", name=name, value=value)
    return value


def output_size(h: int, w: int, k: int | tuple[int, int], stride: int = 1, padding: int = 0,
                dilation: int = 1) -> tuple[int, int]:
    """PyTorch's rule floor((H + 2P - D(K-1) - 1) / S) + 1 per side; LabError for settings torch rejects."""
    kh, kw = (k, k) if isinstance(k, int) else k
    stride, padding, dilation = _whole("stride", stride), _whole("padding", padding), _whole("dilation", dilation)
    kh, kw = _whole("kernel", kh), _whole("kernel", kw)
    if stride < 1:
        raise LabError("conv.bad_stride", stride=stride)
    if padding < 0:
        raise LabError("conv.negative_padding", padding=padding)
    if dilation < 1:
        raise LabError("conv.bad_dilation", dilation=dilation)
    if kh < 1 or kw < 1:
        raise LabError("conv.empty_kernel", kh=kh, kw=kw)
    if h < 1 or w < 1:
        raise LabError("conv.empty_image", h=h, w=w)
    eh, ew = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1  # the kernel's reach with its gaps
    if eh > h + 2 * padding or ew > w + 2 * padding:
        raise LabError("conv.kernel_too_large", kh=eh, kw=ew, h=h + 2 * padding, w=w + 2 * padding)
    return (h + 2 * padding - eh) // stride + 1, (w + 2 * padding - ew) // stride + 1


def _as_chw(t: torch.Tensor, what: str) -> torch.Tensor:
    """[H, W] -> [1, H, W]; [C, H, W] unchanged; integers become float32."""
    if not isinstance(t, torch.Tensor) or t.dim() not in (2, 3):
        raise LabError("conv.bad_shape", what=what, shape=list(getattr(t, "shape", [])))
    if t.dtype == torch.bool or t.is_complex():
        raise LabError("conv.bad_dtype", what=what, dtype=str(t.dtype).replace("torch.", ""))
    if not t.is_floating_point():
        t = t.float()
    t = t.detach()
    return t if t.dim() == 3 else t.unsqueeze(0)


def conv_trace(image: torch.Tensor, kernel: torch.Tensor, bias: float = 0.0, stride: int = 1, padding: int = 0,
               dilation: int = 1, pad_value: float = 0.0) -> ConvTrace:
    """Slide kernel over image (cross-correlation, as nn.Conv2d does) and record every output cell.

    pad_value fills the border: 0 is nn.Conv2d's padding; any other value equals F.pad(x, value=v), then F.conv2d
    without padding (for MNIST digits, whose edges are background, also padding_mode="replicate")."""
    x, k = _as_chw(image, "image"), _as_chw(kernel, "kernel")  # (C, H, W), (C, kh, kw)
    if x.dtype != k.dtype:
        raise LabError("conv.dtype_mismatch", image=str(x.dtype).replace("torch.", ""),
                       kernel=str(k.dtype).replace("torch.", ""))
    if x.shape[0] == 0 or k.shape[0] == 0:  # torch returns a map with no cells: nothing to trace
        raise LabError("conv.no_channels")
    if x.shape[0] != k.shape[0]:
        raise LabError("conv.channels_mismatch", image=x.shape[0], kernel=k.shape[0])
    c, h, w = x.shape
    kh, kw = k.shape[1:]
    h_out, w_out = output_size(h, w, (kh, kw), stride, padding, dilation)
    if not isinstance(pad_value, (int, float)) or isinstance(pad_value, bool) or not math.isfinite(pad_value):
        raise LabError("conv.bad_pad_value", value=pad_value)
    b = torch.tensor([float(bias)], dtype=x.dtype)
    padded = F.pad(x, (padding,) * 4, value=float(pad_value))  # (C, H + 2P, W + 2P)
    if pad_value == 0:
        output = F.conv2d(x[None], k[None], b, stride=stride, padding=padding, dilation=dilation)[0, 0]  # (H_out, W_out)
    else:  # torch's own padding is zeros only: pad first, then convolve without padding
        output = F.conv2d(padded[None], k[None], b, stride=stride, dilation=dilation)[0, 0]  # (H_out, W_out)
    cols = F.unfold(padded[None], (kh, kw), dilation=dilation, stride=stride)[0]  # (C*kh*kw, L)
    windows = cols.T.reshape(h_out * w_out, c, kh, kw)  # (L, C, kh, kw)
    products = windows * k  # (L, C, kh, kw)
    channel_sums = products.sum((2, 3))  # (L, C)
    totals = (channel_sums.sum(1) + float(bias)).tolist()
    steps = tuple(
        ConvStep(i // w_out, i % w_out, (i // w_out) * stride, (i % w_out) * stride, win, prod, sums, total)
        for i, (win, prod, sums, total) in enumerate(zip(windows.unbind(0), products.unbind(0),
                                                         channel_sums.unbind(0), totals)))
    return ConvTrace(output, steps, padded, k, channel_sums.T.reshape(c, h_out, w_out), float(bias),
                     stride, padding, dilation, float(pad_value))


def arithmetic_terms(step: ConvStep, kernel: torch.Tensor) -> list[list[list[tuple[float, float]]]]:
    """The (input, weight) pairs of a step as [channel][kernel row][kernel col], for writing the sum out."""
    k = kernel if kernel.dim() == 3 else kernel.unsqueeze(0)  # (C, kh, kw)
    return [[list(zip(wr.tolist(), kr.tolist())) for wr, kr in zip(wc, kc)] for wc, kc in zip(step.window, k)]


def background(normalized: bool) -> float:
    """The digits' background: an empty (black) MNIST pixel after ToTensor (0), and after Normalize too (-1)."""
    empty = to_unit(torch.zeros((), dtype=torch.uint8))
    return float(normalize(empty)) if normalized else float(empty)


def colour_digit(grey: torch.Tensor) -> torch.Tensor:
    """A grey uint8 (H, W) digit as an RGB uint8 (3, H, W) picture: orange ink on blue paper."""
    g = grey.float()[None] / 255.0  # (1, H, W)
    ink, paper = torch.tensor(INK, dtype=torch.float32)[:, None, None], torch.tensor(PAPER, dtype=torch.float32)[:, None, None]
    return (paper + (ink - paper) * g).round().to(torch.uint8)  # (3, H, W)


def shrink(rgb: torch.Tensor, max_side: int) -> torch.Tensor:
    """An RGB uint8 (H, W, 3) picture as uint8 (3, h, w) with its longer side at most max_side (never enlarged)."""
    x = rgb.permute(2, 0, 1).float()  # (3, H, W)
    h, w = x.shape[1:]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        x = F.interpolate(x[None], size=size, mode="bilinear", antialias=True, align_corners=False)[0]
    return x.round().clamp(0, 255).to(torch.uint8)
