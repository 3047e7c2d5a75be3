"""Code panel of the autograd page: the course's example, its grad_fn chain, .grad, accumulation, no_grad/detach."""
from __future__ import annotations


def autograd_script(seed: int, calls: int, second_pass: str, zero_grad: bool, x_requires_grad: bool) -> str:
    """The notes' one-layer example with backward() called `calls` times as the page does;
    result = (loss, {leaf: .grad after the last call}, error of a refused call or None, requires_grad of z three ways)."""
    x_line = "x = torch.ones(5, requires_grad=True)  # input (tracked too)" if x_requires_grad \
        else "x = torch.ones(5)  # input tensor"
    leaves = "{'w': w, 'b': b, 'x': x}" if x_requires_grad else "{'w': w, 'b': b}"
    clear = ("\n    for t in leaves.values():\n        t.grad = None  # what optimizer.zero_grad() does"
             if zero_grad else "  # no zero_grad: .grad keeps adding up")
    again = ("\n    if call > 0:\n        z = torch.matmul(x, w) + b  # a new forward pass builds a new graph"
             "\n        loss = F.binary_cross_entropy_with_logits(z, y)" if second_pass == "forward_again" else "")
    retain = "retain_graph=True" if second_pass == "retain_graph" else ""
    return f'''import torch
import torch.nn.functional as F

torch.manual_seed({seed})
{x_line}
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
loss = F.binary_cross_entropy_with_logits(z, y)
print("loss", loss.item())

# The graph autograd recorded, walked from the loss back to the leaves
def show(fn, depth=0):
    label = type(fn).__name__ + (f" -> leaf {{tuple(fn.variable.shape)}}" if hasattr(fn, "variable") else "")
    print("  " * depth + label)
    for next_fn, _ in fn.next_functions:
        if next_fn is not None:
            show(next_fn, depth + 1)
show(loss.grad_fn)

leaves = {leaves}
error = None
for call in range({calls}):{clear}{again}
    try:
        loss.backward({retain})
    except RuntimeError as exc:  # the graph was freed by the first backward()
        error = str(exc)
        print("call", call + 1, "refused:", error)
        break
    print("call", call + 1, "b.grad =", b.grad)

# Stopping the tracking
z = torch.matmul(x, w) + b
print(z.requires_grad)  # True
with torch.no_grad():
    z_off = torch.matmul(x, w) + b
print(z_off.requires_grad)  # False
z_det = z.detach()
print(z_det.requires_grad)  # False
result = (loss.item(), {{n: t.grad.tolist() for n, t in leaves.items()}}, error,
          (z.requires_grad, z_off.requires_grad, z_det.requires_grad))
'''


def vjp_script(seed: int, v: tuple[float, ...], frozen: tuple[str, ...]) -> str:
    """backward() of the vector z refused, then z.backward(v) against v^T J; one SGD step on LeNet-5 with some layers
    frozen. result = (torch's message, J, v @ J, x.grad, {layer: (.grad is None, changed by step)}, trainable count)."""
    vec = ", ".join(f"{float(a)!r}" for a in v)
    freeze = "".join(f"\nfor p in model.{name}.parameters():\n    p.requires_grad = False" for name in frozen) \
        or "\n# (no layer frozen)"
    return f'''import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed({seed})
x = torch.ones(5, requires_grad=True)
y = torch.zeros(3)
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b  # a vector of 3 values, not a scalar

try:
    z.backward()
    message = None
except RuntimeError as exc:
    message = str(exc)
print("z.backward() ->", message)

v = torch.tensor([{vec}])
z.backward(v)  # computes v^T J, where J = dz/dx has shape [3, 5]
J = torch.autograd.functional.jacobian(lambda xs: torch.matmul(xs, w.detach()) + b.detach(), x.detach())
print("J =", J)
print("v^T J =", v @ J)
print("x.grad =", x.grad)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        x = F.max_pool2d(torch.tanh(self.conv2(x)), 2)
        x = torch.tanh(self.fc1(x.flatten(1)))
        x = torch.tanh(self.fc2(x))
        return self.fc3(x)


torch.manual_seed({seed})
model = LeNet5()
images, labels = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
{freeze}
before = {{n: p.detach().clone() for n, p in model.named_parameters()}}
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
optimizer.zero_grad()
try:
    F.cross_entropy(model(images), labels).backward()
    optimizer.step()  # parameters whose .grad is None are skipped
except RuntimeError as exc:  # every layer frozen: the loss has no grad_fn
    print(exc)
layers = {{}}
for name in ("conv1", "conv2", "fc1", "fc2", "fc3"):
    params = dict(getattr(model, name).named_parameters(prefix=name))
    layers[name] = (all(p.grad is None for p in params.values()),
                    any(not torch.equal(p.detach(), before[n]) for n, p in params.items()))
    print(name, "grad is None:", layers[name][0], "| changed by step:", layers[name][1])
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print("trainable parameters:", trainable, "of", sum(p.numel() for p in model.parameters()))
result = (message, J, v @ J, x.grad, layers, trainable)
'''
