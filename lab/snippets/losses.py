"""Code panels of the softmax / cross-entropy page: plain PyTorch that reproduces the page's numbers."""
from __future__ import annotations


def cross_entropy_code(logits: list[float], target: int, temperature: float = 1.0) -> str:
    """Softmax, loss and gradient of one sample; result = (probabilities, loss, gradient)."""
    return f'''import torch
import torch.nn as nn

logits = torch.tensor([[{", ".join(repr(float(v)) for v in logits)}]], dtype=torch.float64, requires_grad=True)
target = torch.tensor([{int(target)}])     # a class index, not one-hot
T = {float(temperature)!r}                      # temperature

probs = torch.softmax(logits / T, dim=1)   # only to look at: the loss takes raw logits
loss = nn.CrossEntropyLoss()(logits / T, target)
loss.backward()
print(probs, loss.item(), logits.grad)     # logits.grad = (probs - one_hot) / T
result = (probs[0].tolist(), loss.item(), logits.grad[0].tolist())
'''


def batch_code(logits: list[list[float]], labels: list[int]) -> str:
    """The course's batch: CrossEntropyLoss mean and per sample; result = (mean, per-sample losses)."""
    rows = ",\n                       ".join(str([float(v) for v in row]) for row in logits)
    return f'''import torch
import torch.nn as nn

logits = torch.tensor([{rows}], requires_grad=True)
labels = torch.tensor({list(map(int, labels))})   # class indices

loss = nn.CrossEntropyLoss()(logits, labels)                    # the mean over the batch
per_sample = nn.CrossEntropyLoss(reduction="none")(logits, labels)
loss.backward()                                                  # logits.grad = (softmax - one_hot) / batch size
print(loss.item(), per_sample)
result = (loss.item(), per_sample.tolist())
'''
