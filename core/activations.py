"""Activation functions: values and autograd derivatives, feature maps, deep stacks and dead units."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from core.errors import LabError
from core.seeding import seeded


@dataclass(frozen=True)
class ActivationSpec:
    """One activation: how to build it from its parameters, and their defaults."""

    name: str
    build: Callable[..., nn.Module]  # keyword parameters -> module
    defaults: dict[str, float] = field(default_factory=dict)
    saturating: bool = False  # both tails flatten out (the derivative goes to 0 on both sides)


REGISTRY: dict[str, ActivationSpec] = {
    "tanh": ActivationSpec("tanh", nn.Tanh, saturating=True),
    "sigmoid": ActivationSpec("sigmoid", nn.Sigmoid, saturating=True),
    "relu": ActivationSpec("relu", nn.ReLU),
    "leaky_relu": ActivationSpec("leaky_relu", lambda negative_slope: nn.LeakyReLU(negative_slope),
                                 {"negative_slope": 0.01}),  # torch's default slope
    "elu": ActivationSpec("elu", lambda alpha: nn.ELU(alpha), {"alpha": 1.0}),
    "prelu": ActivationSpec("prelu", lambda init: nn.PReLU(init=init), {"init": 0.25}),  # alpha learned; torch's start
    "gelu": ActivationSpec("gelu", nn.GELU),
    "silu": ActivationSpec("silu", nn.SiLU),
}
NAMES: tuple[str, ...] = tuple(REGISTRY)


@dataclass(frozen=True)
class ActivationValues:
    """f(x) and f'(x) at the points x (f' from autograd)."""

    name: str
    x: torch.Tensor  # (K,)
    y: torch.Tensor  # (K,) f(x)
    dy: torch.Tensor  # (K,) f'(x); at a kink, the one-sided value torch uses (ReLU'(0) = 0)


def module(name: str, **params: float) -> nn.Module:
    """The torch module of activation `name` with its parameters (defaults filled in)."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise LabError("act.unknown", name=name)
    extra = set(params) - set(spec.defaults)
    if extra:
        raise LabError("act.bad_param", name=name, param=sorted(extra)[0])
    values = {**spec.defaults, **params}
    for key, v in values.items():
        if not torch.isfinite(torch.tensor(float(v))):
            raise LabError("act.bad_param", name=name, param=key)
    return spec.build(**values)


def evaluate(name: str, x: torch.Tensor | list[float], **params: float) -> ActivationValues:
    """Values and derivatives of activation `name` at x; the derivative is computed by autograd."""
    x = torch.as_tensor(x, dtype=torch.float32).detach().flatten().clone().requires_grad_(True)
    if not torch.isfinite(x).all():
        raise LabError("act.not_finite")
    fn = module(name, **params)
    y = fn(x)
    (dy,) = torch.autograd.grad(y.sum(), x)  # each y_i depends only on x_i, so grad of the sum is f'(x_i)
    return ActivationValues(name, x.detach(), y.detach(), dy.detach())


def prelu_alpha_grad(x: torch.Tensor | list[float], init: float = 0.25) -> tuple[float, float]:
    """PReLU's slope alpha is a weight of the network: (alpha, d sum(PReLU(x)) / d alpha) after one backward pass.
    Only the negative inputs reach it, so the gradient is the sum of the negative x."""
    x = torch.as_tensor(x, dtype=torch.float32).detach().flatten()
    if not torch.isfinite(x).all():
        raise LabError("act.not_finite")
    layer = module("prelu", init=init)
    layer(x).sum().backward()
    return float(layer.weight.detach()), float(layer.weight.grad)


def saturated_ranges(values: ActivationValues, threshold: float = 0.05) -> list[tuple[float, float]]:
    """Runs of x where |f'(x)| < threshold: the regions where almost no gradient passes."""
    flat = (values.dy.abs() < threshold).tolist()
    xs = values.x.tolist()
    ranges, start = [], None
    for i, low in enumerate(flat):
        if low and start is None:
            start = i
        if start is not None and (not low or i == len(flat) - 1):
            end = i if low else i - 1
            ranges.append((xs[start], xs[end]))
            start = None
    return ranges


def feature_map(model: nn.Module, image: torch.Tensor, name: str, **params: float) -> tuple[torch.Tensor, torch.Tensor]:
    """LeNet's first convolution on one digit (1, 1, 28, 28), before and after activation `name`: (6, 28, 28) each."""
    fn = module(name, **params)
    with torch.no_grad():
        pre = model.conv1(image)[0]  # (6, 28, 28)
        return pre, fn(pre)


@dataclass(frozen=True)
class StackGradients:
    """What a real backward pass through a deep stack leaves in each layer."""

    weight_grad_norm: torch.Tensor  # (depth,) ||dL/dW_l||, layer 1 = nearest the input
    activation_grad_norm: torch.Tensor  # (depth,) ||dL/dh_l|| for each layer's output h_l
    dead_fraction: torch.Tensor  # (depth,) units whose output is 0 for every sample (ReLU-like only)
    loss: float


INITS: tuple[str, ...] = ("matched", "default", "xavier", "kaiming", "scaled")
RELU_LIKE = ("relu", "leaky_relu", "prelu", "elu", "gelu", "silu")  # zero (or nearly) for negative inputs
STACK_ACTS = ("relu", "tanh", "sigmoid")  # the activations page's deep stacks, side by side
STACK_INITS = ("matched", "default", "xavier", "kaiming")  # matched: each activation with the init that suits it
STACK_DEPTH = 12  # the page opens on 12 layers


def init_for(name: str, init: str) -> str:
    """The initialisation a deep stack of activation `name` gets: "matched" means Kaiming for the ReLU family (it
    makes up for the half of the inputs ReLU zeroes) and Xavier for tanh and sigmoid (Glorot's init, for activations
    with slope 1 or less around 0); "default", "xavier", "kaiming" and "scaled" are the same for every activation."""
    if init not in INITS:
        raise LabError("act.bad_init", init=init)
    if init == "matched":
        return "kaiming" if name in RELU_LIKE else "xavier"
    return init


def deep_stack(name: str, depth: int, in_features: int = 784, width: int = 64, init: str = "default",
               seed: int = 0, **params: float) -> nn.Sequential:
    """Linear+activation repeated `depth` times, then Linear(width, 10); seeded. init (see init_for): "default"
    (PyTorch's own), "xavier" (xavier_uniform_, gain 1), "kaiming" (kaiming_normal_ for ReLU), "matched" (the one
    that suits the activation), "scaled" (Xavier with the activation's gain); every init but the default zeroes biases."""
    if not 1 <= depth <= 100 or width < 1:
        raise LabError("act.bad_depth", depth=depth)
    chosen = init_for(name, init)
    module(name, **params)  # validates name and params
    gain_name = name if name in ("tanh", "sigmoid", "relu", "leaky_relu") else "relu"  # gelu/elu/silu: ReLU-like
    gain = nn.init.calculate_gain(gain_name, params.get("negative_slope", 0.01))
    slope = params.get("negative_slope", 0.0) if name == "leaky_relu" else 0.0
    layers: list[nn.Module] = []
    with seeded(seed):
        for i in range(depth):
            lin = nn.Linear(in_features if i == 0 else width, width)
            if chosen == "scaled":  # Xavier/Glorot with the activation's gain
                nn.init.xavier_uniform_(lin.weight, gain=gain)
            elif chosen == "xavier":  # variance 2 / (fan_in + fan_out)
                nn.init.xavier_uniform_(lin.weight)
            elif chosen == "kaiming":  # variance 2 / fan_in (over 1 + slope^2 for a leaky ReLU)
                nn.init.kaiming_normal_(lin.weight, a=slope, nonlinearity="leaky_relu" if slope else "relu")
            if chosen != "default":
                nn.init.zeros_(lin.bias)
            layers += [lin, module(name, **params)]
        layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def stack_gradients(stack: nn.Sequential, x: torch.Tensor, labels: torch.Tensor) -> StackGradients:
    """Cross-entropy on a batch x (N, in_features), one backward pass; per-layer gradient norms and dead units."""
    stack.zero_grad(set_to_none=True)
    h, outputs = x, []
    for layer in stack:
        h = layer(h)
        if not isinstance(layer, nn.Linear):
            h.retain_grad()
            outputs.append(h)  # (N, width)
    loss = F.cross_entropy(h, labels)
    loss.backward()
    linears = [m for m in stack if isinstance(m, nn.Linear)][:-1]
    w_norm = torch.stack([m.weight.grad.norm() for m in linears])
    a_norm = torch.stack([o.grad.norm() for o in outputs])
    dead = torch.stack([(o.detach() == 0).all(dim=0).float().mean() for o in outputs])
    stack.zero_grad(set_to_none=True)
    return StackGradients(w_norm.detach(), a_norm.detach(), dead, float(loss.detach()))


def lenet_dead_fraction(model: nn.Module, x: torch.Tensor, bias_shift: float = 0.0) -> dict[str, float]:
    """For each LeNet layer before an activation, the share of units whose input is <= 0 for every digit of x.

    Under ReLU such a unit outputs 0 for the whole batch and gets no gradient: a dead unit. bias_shift is added to
    every layer's biases (as a bad update would), without touching the model.
    """
    pre: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        h = pre["conv1"] = model.conv1(x) + bias_shift  # (N, 6, 28, 28)
        h = model.pool1(model.act1(h))
        h = pre["conv2"] = model.conv2(h) + bias_shift  # (N, 16, 10, 10)
        h = model.pool2(model.act2(h)).flatten(1)  # (N, 400)
        h = pre["fc1"] = model.fc1(h) + bias_shift  # (N, 120)
        pre["fc2"] = model.fc2(model.act3(h)) + bias_shift  # (N, 84)
    return {k: float((v <= 0).all(dim=0).float().mean()) for k, v in pre.items()}
