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
