"""LeNet-5 for 28x28 digits, with a choice of activation, pooling and layer sizes (classic LeNet-5 by default)."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Callable

import torch
import torch.nn as nn
from core.errors import LabError
from core.seeding import seeded

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "tanh": nn.Tanh,  # the original LeNet-5 squashing function
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "silu": nn.SiLU,
}
POOLINGS: dict[str, Callable[[], nn.Module]] = {
    "max": lambda: nn.MaxPool2d(2, 2),
    "avg": lambda: nn.AvgPool2d(2, 2),  # closest to LeNet-5's original subsampling
}
LAYER_NAMES: tuple[str, ...] = ("input", "conv1", "act1", "pool1", "conv2", "act2", "pool2",
                                "flatten", "fc1", "act3", "fc2", "act4", "fc3")
INPUT_SIZE = 28  # MNIST digits are 28x28
CLASSES = 10
KERNEL_SIZES = (3, 5, 7)  # odd sizes, so a padding of k // 2 keeps a map's size
LIMITS: dict[str, tuple[int, int]] = {  # enough to explore, small enough to train in seconds on a CPU
    "conv1_channels": (1, 64), "conv2_channels": (1, 128), "fc1_units": (1, 512), "fc2_units": (1, 512),
    "conv1_padding": (0, 3)}


class SeededDropout(nn.Module):
    """nn.Dropout with its own random generator, so a seeded run is repeatable even beside other runs."""

    def __init__(self, p: float, seed: int = 0) -> None:
        super().__init__()
        self.p = p
        self.generator = torch.Generator().manual_seed(seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Zero each unit with probability p and scale the rest by 1/(1-p); identity in eval mode."""
        if not self.training or self.p == 0.0:
            return x
        keep = torch.bernoulli(torch.full_like(x, 1.0 - self.p), generator=self.generator)
        return x * keep / (1.0 - self.p)


@dataclass(frozen=True)
class PlanRow:
    """One row of the architecture table, computed from the settings alone (no model is built)."""

    name: str  # one of LAYER_NAMES
    shape: tuple[int, ...]  # output of one sample: (C, H, W), or (F,) from flatten on
    params: int  # weights + biases
    macs: int  # multiply-adds for one sample (convolutions and Linear layers; activations and pooling count 0)


@dataclass(frozen=True)
class LayerPlan:
    """The whole table and its totals."""

    rows: tuple[PlanRow, ...]
    params: int
    macs: int

    def row(self, name: str) -> PlanRow:
        """The row of a layer by name."""
        return next(r for r in self.rows if r.name == name)


def _shrunk(layer: str, size: int, kernel: int, padding: int, stride: int) -> int:
    """PyTorch's floor((H + 2P - K) / S) + 1; LabError with those numbers when the map would be under 1x1."""
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise LabError("lenet.map_too_small", layer=layer, size=size, padding=padding, kernel=kernel, stride=stride,
                       out=out)
    return out


def layer_plan(config: LeNetConfig, size: int = INPUT_SIZE) -> LayerPlan:
    """Each layer's output shape, parameters and multiply-adds for a (1, size, size) input, from arithmetic alone."""
    c1, c2, k, p = config.conv1_channels, config.conv2_channels, config.kernel_size, config.conv1_padding
    h1 = _shrunk("conv1", size, k, p, 1)  # 28 + 2*2 - 5 + 1 = 28
    q1 = _shrunk("pool1", h1, 2, 0, 2)  # 14
    h2 = _shrunk("conv2", q1, k, 0, 1)  # 10
    q2 = _shrunk("pool2", h2, 2, 0, 2)  # 5
    flat, f1, f2 = c2 * q2 * q2, config.fc1_units, config.fc2_units  # 400, 120, 84
    rows = (PlanRow("input", (1, size, size), 0, 0),
            PlanRow("conv1", (c1, h1, h1), c1 * (k * k + 1), c1 * h1 * h1 * k * k),
            PlanRow("act1", (c1, h1, h1), 0, 0),
            PlanRow("pool1", (c1, q1, q1), 0, 0),
            PlanRow("conv2", (c2, h2, h2), c2 * (c1 * k * k + 1), c2 * h2 * h2 * c1 * k * k),
            PlanRow("act2", (c2, h2, h2), 0, 0),
            PlanRow("pool2", (c2, q2, q2), 0, 0),
            PlanRow("flatten", (flat,), 0, 0),
            PlanRow("fc1", (f1,), (flat + 1) * f1, flat * f1),
            PlanRow("act3", (f1,), 0, 0),
            PlanRow("fc2", (f2,), (f1 + 1) * f2, f1 * f2),
            PlanRow("act4", (f2,), 0, 0),
            PlanRow("fc3", (CLASSES,), (f2 + 1) * CLASSES, f2 * CLASSES))
    return LayerPlan(rows, sum(r.params for r in rows), sum(r.macs for r in rows))


@dataclass(frozen=True)
class LeNetConfig:
    """Architecture choices; hashable, so it can name a checkpoint."""

    activation: str = "tanh"  # the 1998 paper's choice; "relu" is the modern one
    pooling: str = "max"  # the course uses max pooling
    dropout: float = 0.0  # off in classic LeNet-5; > 0 only to show train() vs eval()
    conv1_channels: int = 6  # LeNet-5's C1: six feature maps
    conv2_channels: int = 16  # C3: sixteen
    kernel_size: int = 5  # both convolutions, 5x5 as in the paper
    fc1_units: int = 120  # C5 (a full 5x5 convolution in the paper, a Linear layer here)
    fc2_units: int = 84  # F6
    conv1_padding: int = 2  # 28x28 padded to the paper's 32x32, so conv1 keeps 28x28

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {self.pooling!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if isinstance(self.kernel_size, bool) or self.kernel_size not in KERNEL_SIZES:
            raise LabError("lenet.bad_kernel", kernel=self.kernel_size)
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise LabError("lenet.out_of_range", name=name, value=value, low=low, high=high)
        layer_plan(self)  # refuses a map that shrinks below 1x1


CLASSIC_SIZES = {f.name: f.default for f in fields(LeNetConfig) if f.name in ("conv1_channels", "conv2_channels",
                "kernel_size", "fc1_units", "fc2_units", "conv1_padding")}  # the sizes, at classic LeNet-5's values
ARCH_PRESETS: dict[str, dict[str, object]] = {  # field changes, for LeNetConfig or TrainConfig alike
    "classic_1998": {"activation": "tanh", "pooling": "avg", **CLASSIC_SIZES},  # LeCun et al. 1998: squash, subsample
    "modern": {"activation": "relu", "pooling": "max", **CLASSIC_SIZES},  # the same sizes as most courses build it now
    "tiny": {"conv1_channels": 2, "conv2_channels": 4},  # how few filters still learn digits?
    "wide": {"conv1_channels": 16, "conv2_channels": 32},  # more filters: more parameters, more multiply-adds
}


def apply_preset(config: LeNetConfig, name: str) -> LeNetConfig:
    """config with a preset's fields; LabError for an unknown preset."""
    if name not in ARCH_PRESETS:
        raise LabError("lenet.bad_preset", name=name)
    return replace(config, **ARCH_PRESETS[name])


class LeNet5(nn.Module):
    """conv(6@5x5, pad 2) - pool - conv(16@5x5) - pool - fc 120 - fc 84 - fc 10, or the sizes the config gives."""

    def __init__(self, config: LeNetConfig = LeNetConfig(), seed: int = 0) -> None:
        super().__init__()
        self.config = config
        act, pool = ACTIVATIONS[config.activation], POOLINGS[config.pooling]
        c1, c2, k = config.conv1_channels, config.conv2_channels, config.kernel_size
        flat = layer_plan(config).row("flatten").shape[0]  # 16 * 5 * 5 = 400 for the classic sizes
        self.conv1 = nn.Conv2d(1, c1, kernel_size=k, padding=config.conv1_padding)
        self.act1, self.pool1 = act(), pool()
        self.conv2 = nn.Conv2d(c1, c2, kernel_size=k)
        self.act2, self.pool2 = act(), pool()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(flat, config.fc1_units)
        self.act3 = act()
        self.fc2 = nn.Linear(config.fc1_units, config.fc2_units)
        self.act4 = act()
        self.drop = SeededDropout(config.dropout, seed)
        self.fc3 = nn.Linear(config.fc2_units, CLASSES)

    def forward_all(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every intermediate tensor by layer name; "fc3" holds the logits (shapes for the classic sizes)."""
        out = {"input": x}  # (N, 1, 28, 28)
        x = out["conv1"] = self.conv1(x)  # (N, 6, 28, 28)
        x = out["act1"] = self.act1(x)
        x = out["pool1"] = self.pool1(x)  # (N, 6, 14, 14)
        x = out["conv2"] = self.conv2(x)  # (N, 16, 10, 10)
        x = out["act2"] = self.act2(x)
        x = out["pool2"] = self.pool2(x)  # (N, 16, 5, 5)
        x = out["flatten"] = self.flatten(x)  # (N, 400)
        x = out["fc1"] = self.fc1(x)  # (N, 120)
        x = out["act3"] = self.act3(x)
        x = out["fc2"] = self.fc2(x)  # (N, 84)
        x = out["act4"] = self.drop(self.act4(x))
        out["fc3"] = self.fc3(x)  # (N, 10) logits
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, 10) for a batch (N, 1, 28, 28)."""
        return self.forward_all(x)["fc3"]


def build_lenet(config: LeNetConfig = LeNetConfig(), seed: int = 0) -> LeNet5:
    """A freshly initialised LeNet-5; the same seed gives the same weights."""
    with seeded(seed):
        return LeNet5(config, seed)


@dataclass(frozen=True)
class LayerInfo:
    """One row of the pipeline table: a layer, its output shape and its parameters."""

    name: str
    shape: tuple[int, ...]
    params: int


def layer_table(model: LeNet5, x: torch.Tensor) -> list[LayerInfo]:
    """Run a real forward pass and report each layer's output shape and parameter count."""
    with torch.no_grad():
        outs = model.forward_all(x)
    modules = dict(model.named_children())
    rows = []
    for name in LAYER_NAMES:
        module = modules.get(name)
        n = sum(p.numel() for p in module.parameters()) if module is not None else 0
        rows.append(LayerInfo(name, tuple(outs[name].shape), n))
    return rows


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in the model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

