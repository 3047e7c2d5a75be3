"""LeNet-5 for 28x28 digits, with a choice of activation and pooling."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
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
class LeNetConfig:
    """Architecture choices; hashable, so it can name a checkpoint."""

    activation: str = "tanh"  # the 1998 paper's choice; "relu" is the modern one
    pooling: str = "max"  # the course uses max pooling
    dropout: float = 0.0  # off in classic LeNet-5; > 0 only to show train() vs eval()

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {self.pooling!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


class LeNet5(nn.Module):
    """conv(6@5x5, pad 2) - pool - conv(16@5x5) - pool - fc 120 - fc 84 - fc 10."""

    def __init__(self, config: LeNetConfig = LeNetConfig(), seed: int = 0) -> None:
        super().__init__()
        self.config = config
        act, pool = ACTIVATIONS[config.activation], POOLINGS[config.pooling]
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.act1, self.pool1 = act(), pool()
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.act2, self.pool2 = act(), pool()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.act3 = act()
        self.fc2 = nn.Linear(120, 84)
        self.act4 = act()
        self.drop = SeededDropout(config.dropout, seed)
        self.fc3 = nn.Linear(84, 10)

    def forward_all(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every intermediate tensor by layer name; "fc3" holds the logits."""
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
