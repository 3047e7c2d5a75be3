"""nn.Module anatomy on real torch objects: the course's NeuralNetwork, Conv2d parameter counts, flattening, state_dict."""
from __future__ import annotations

import io
from dataclasses import dataclass

import torch
import torch.nn as nn

from core.errors import LabError
from core.seeding import seeded

MAX_BATCH = 64  # the page's N control: enough rows to see softmax per row, small enough to list them
FEATURE_MAPS: dict[str, tuple[int, int, int]] = {"lenet": (16, 5, 5), "notes": (64, 7, 7)}  # (C, H, W) before Flatten
CLASSES = 10


class NeuralNetwork(nn.Module):
    """The course's network: Flatten, then Linear 784->512, ReLU, Linear 512->512, ReLU, Linear 512->10."""

    def __init__(self) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, 10) for images (N, 28, 28)."""
        x = self.flatten(x)  # (N, 784)
        return self.linear_relu_stack(x)


@dataclass(frozen=True)
class ParamRow:
    """One entry of named_parameters(): its name, shape, number of values and whether it is trained."""

    name: str
    shape: tuple[int, ...]
    count: int
    trainable: bool


def parameter_table(model: nn.Module) -> tuple[ParamRow, ...]:
    """named_parameters() as rows; a Linear's weight is (out_features, in_features)."""
    return tuple(ParamRow(n, tuple(p.shape), p.numel(), p.requires_grad) for n, p in model.named_parameters())


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Total number of parameter values (only those with requires_grad=True if asked)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def network_and_input(seed: int, n: int) -> tuple[NeuralNetwork, torch.Tensor]:
    """torch.manual_seed(seed), then NeuralNetwork() and X = torch.rand(n, 28, 28); the global generator is restored."""
    if not 1 <= n <= MAX_BATCH:
        raise LabError("build.bad_batch", n=n, most=MAX_BATCH)
    with seeded(seed):
        model = NeuralNetwork()
        x = torch.rand(n, 28, 28)  # (N, 28, 28) pixels in [0, 1)
    return model, x


@dataclass(frozen=True, eq=False)
class Prediction:
    """model(X), Softmax(dim=1) of it and the argmax of each row."""

    logits: torch.Tensor  # (N, 10) raw scores in (-inf, inf)
    probs: torch.Tensor  # (N, 10) each row sums to 1
    row_sums: torch.Tensor  # (N,)
    predicted: torch.Tensor  # (N,) class index


def predict(model: nn.Module, x: torch.Tensor) -> Prediction:
    """The notes' three lines: logits = model(X), probabilities = nn.Softmax(dim=1)(logits), y_pred = argmax(1)."""
    with torch.no_grad():
        logits = model(x)
        probs = nn.Softmax(dim=1)(logits)
    return Prediction(logits, probs, probs.sum(dim=1), probs.argmax(1))


@dataclass(frozen=True)
class CallVsForward:
    """model(X) against model.forward(X), with a forward hook registered on the model."""

    same_values: bool
    max_difference: float
    hook_fired_on_call: int  # times the hook ran during model(X)
    hook_fired_on_forward: int  # times it ran during model.forward(X): hooks live in __call__, not in forward


def call_vs_forward(model: nn.Module, x: torch.Tensor) -> CallVsForward:
    """Run both ways with a counting forward hook, then remove the hook again."""
    fired: list[int] = []
    handle = model.register_forward_hook(lambda module, inputs, output: fired.append(1))
    try:
        with torch.no_grad():
            via_call = model(x)
            on_call = len(fired)
            via_forward = model.forward(x)
    finally:
        handle.remove()
    return CallVsForward(torch.equal(via_call, via_forward), float((via_call - via_forward).abs().max()),
                         on_call, len(fired) - on_call)


@dataclass(frozen=True)
class ConvCount:
    """The parameters of nn.Conv2d(in, out, kernel, groups=groups, bias=bias), counted on the built layer."""

    in_per_group: int  # input channels each kernel sees: in_channels / groups
    weight_shape: tuple[int, ...]  # (out, in / groups, k, k)
    weight: int
    bias: int
    total: int


def conv_params(in_channels: int, out_channels: int, kernel: int, bias: bool = True, groups: int = 1) -> ConvCount:
    """Build the layer and count; torch's own message is kept if it refuses the settings. Built on the meta device:
    the same checks and shapes, no memory and no random init (Conv2d(1024, 1024, 11) would fill 0.5 GB, ~0.5 s)."""
    try:
        layer = nn.Conv2d(in_channels, out_channels, kernel, groups=groups, bias=bias, device="meta")
    except (ValueError, RuntimeError) as exc:  # e.g. "in_channels must be divisible by groups"
        raise LabError("build.bad_conv", str(exc), detail=str(exc)) from exc
    b = layer.bias.numel() if layer.bias is not None else 0
    return ConvCount(in_channels // groups, tuple(layer.weight.shape), layer.weight.numel(), b, layer.weight.numel() + b)


@dataclass(frozen=True)
class Sharing:
    """LeNet's first convolution against a fully connected layer with the same input and output sizes: the prior
    (inductive bias) a convolution builds in, weight sharing and locality, in numbers."""

    conv_params: int  # nn.Conv2d(1, 6, 5, padding=2): 6 kernels of 5x5 plus 6 biases, reused at every position
    dense_params: int  # nn.Linear(28 * 28, 6 * 28 * 28): every output its own weight for every pixel
    conv_inputs_seen: int  # pixels one output cell depends on, found by autograd: its 5x5 window
    dense_inputs_seen: int  # pixels one output of the dense layer depends on: all of them


def weight_sharing(seed: int = 0, row: int = 14, col: int = 14) -> Sharing:
    """Count both layers' parameters (the dense one built on the meta device: no memory) and, by a backward pass
    from one output cell, how many input pixels it depends on."""
    with seeded(seed):
        conv = nn.Conv2d(1, 6, 5, padding=2)
        dense_row = nn.Linear(28 * 28, 1)  # one output of the dense layer: each depends on the whole picture
        x = torch.randn(1, 1, 28, 28)  # (N, C, H, W)
    dense = nn.Linear(28 * 28, 6 * 28 * 28, device="meta")
    seen = []
    for forward in (lambda v: conv(v)[0, 0, row, col], lambda v: dense_row(v.flatten(1))[0, 0]):
        v = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(forward(v), v)
        seen.append(int((grad != 0).sum()))
    return Sharing(count_params(conv), count_params(dense), seen[0], seen[1])


@dataclass(frozen=True, eq=False)
class FlattenDemo:
    """A feature map (B, C, H, W) flattened two ways, then a Linear head or global average pooling and a smaller head."""

    view_shape: tuple[int, ...]  # x.view(1, -1): batch folded in when B > 1
    flatten_shape: tuple[int, ...]  # nn.Flatten()(x): (B, C*H*W)
    same_values: bool  # x.view(B, -1) equals nn.Flatten()(x)
    linear_out: tuple[int, ...]  # Linear(C*H*W, 10) output
    linear_params: int
    gap_shape: tuple[int, ...]  # AdaptiveAvgPool2d(1) + Flatten: (B, C)
    gap_is_mean: bool  # each pooled value is its channel's mean
    gap_linear_params: int  # Linear(C, 10)

    @property
    def saving(self) -> float:
        """How many times more parameters the flatten head needs than the pooled one."""
        return self.linear_params / self.gap_linear_params


def flatten_demo(feature_map: str, batch: int = 1, seed: int = 0) -> FlattenDemo:
    """Run the course's flatten examples on a seeded random feature map."""
    if feature_map not in FEATURE_MAPS:
        raise LabError("build.bad_map", name=feature_map)
    c, h, w = FEATURE_MAPS[feature_map]
    with seeded(seed):
        x = torch.randn(batch, c, h, w)  # (B, C, H, W)
        head = nn.Linear(c * h * w, CLASSES)
        small_head = nn.Linear(c, CLASSES)
    flat = nn.Flatten()(x)  # (B, C*H*W)
    gap = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())(x)  # (B, C)
    with torch.no_grad():
        out = head(flat)
    return FlattenDemo(tuple(x.view(1, -1).shape), tuple(flat.shape), torch.equal(x.view(batch, -1), flat),
                       tuple(out.shape), count_params(head), tuple(gap.shape),
                       bool(torch.allclose(gap, x.mean(dim=(2, 3)))), count_params(small_head))


@dataclass(frozen=True, eq=False)
class RoundTrip:
    """model.state_dict() saved with torch.save to memory and loaded into a fresh model with weights_only=True."""

    keys: tuple[tuple[str, tuple[int, ...]], ...]  # (name, shape) of every entry
    saved_bytes: int
    fresh_differs: bool  # before loading, the fresh model gives other outputs
    identical: bool  # after loading, outputs are exactly equal
    max_difference: float


def state_dict_round_trip(seed: int, n: int) -> RoundTrip:
    """Save the seeded network's weights, load them into a network made with another seed, compare outputs."""
    model, x = network_and_input(seed, n)
    fresh, _ = network_and_input(seed + 1, 1)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)  # plain tensors only: no code runs while loading
    with torch.no_grad():
        before = fresh(x)
        fresh.load_state_dict(loaded)
        want, got = model(x), fresh(x)
    return RoundTrip(tuple((k, tuple(v.shape)) for k, v in loaded.items()), buffer.getbuffer().nbytes,
                     not torch.equal(before, want), torch.equal(want, got), float((want - got).abs().max()))
