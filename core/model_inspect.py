"""What a trained model gets right and wrong: predictions, confusion matrix, per-class accuracy, mistakes."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.data import to_model_input
from core.errors import LabError
from core.lenet import LeNet5

CLASSES = 10


@dataclass(frozen=True, eq=False)
class Predictions:
    """A model's answers on a set of labelled digits."""

    labels: torch.Tensor  # (N,) int64, the truth
    predicted: torch.Tensor  # (N,) int64, argmax of the logits
    probs: torch.Tensor  # (N, 10) softmax of the logits

    @property
    def accuracy(self) -> float:
        """Fraction of digits answered correctly."""
        return float((self.predicted == self.labels).float().mean())

    @property
    def confidence(self) -> torch.Tensor:
        """(N,) probability the model gave to its own answer."""
        return self.probs.gather(1, self.predicted[:, None])[:, 0]


@torch.no_grad()
def predict(model: LeNet5, images: torch.Tensor, labels: torch.Tensor, normalized: bool = True,
            batch_size: int = 1000) -> Predictions:
    """Run the model (eval mode, no gradients) on uint8 digits (N, 28, 28)."""
    was_training = model.training
    model.eval()
    probs = []
    for i in range(0, len(labels), batch_size):
        logits = model(to_model_input(images[i : i + batch_size], normalized))  # (B, 10)
        probs.append(F.softmax(logits, dim=1))
    model.train(was_training)
    p = torch.cat(probs) if probs else torch.zeros(0, CLASSES)
    return Predictions(labels.to(torch.int64), p.argmax(1), p)


def confusion_matrix(labels: torch.Tensor, predicted: torch.Tensor, classes: int = CLASSES) -> torch.Tensor:
    """(classes, classes) int64 counts: row = true digit, column = the model's answer."""
    if labels.shape != predicted.shape:
        raise LabError("eval.shape_mismatch", a=len(labels), b=len(predicted))
    if len(labels) and (labels.min() < 0 or labels.max() >= classes or predicted.min() < 0
                        or predicted.max() >= classes):
        raise LabError("eval.bad_class", classes=classes)
    flat = labels.to(torch.int64) * classes + predicted.to(torch.int64)
    return torch.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def per_class_accuracy(cm: torch.Tensor) -> torch.Tensor:
    """(classes,) recall of each digit: correct / how many of that digit there were (nan for an absent digit)."""
    totals = cm.sum(1).to(torch.float64)
    correct = cm.diagonal().to(torch.float64)
    return torch.where(totals > 0, correct / totals.clamp(min=1), torch.full_like(totals, float("nan")))


def misclassified(preds: Predictions, limit: int = 24) -> torch.Tensor:
    """Indices of wrong answers, the most confident mistakes first."""
    wrong = torch.nonzero(preds.predicted != preds.labels).flatten()
    order = torch.argsort(preds.confidence[wrong], descending=True, stable=True)
    return wrong[order][:limit]


@torch.no_grad()
def digit_probabilities(model: LeNet5, digit: torch.Tensor, normalized: bool = True) -> torch.Tensor:
    """(10,) softmax probabilities for one uint8 digit (28, 28)."""
    if digit.shape != (28, 28):
        raise LabError("eval.bad_digit_shape", shape=tuple(digit.shape))
    model.eval()
    logits = model(to_model_input(digit[None], normalized))  # (1, 10)
    return F.softmax(logits, dim=1)[0]


@torch.no_grad()
def feature_maps(model: LeNet5, digit: torch.Tensor, normalized: bool = True) -> dict[str, torch.Tensor]:
    """Every layer's output for one digit, batch dimension dropped: conv maps (C, H, W), vectors (K,)."""
    if digit.shape != (28, 28):
        raise LabError("eval.bad_digit_shape", shape=tuple(digit.shape))
    model.eval()
    outs = model.forward_all(to_model_input(digit[None], normalized))
    return {name: out[0] for name, out in outs.items()}


def filter_change(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """(out_channels,) how far each kernel moved in training: L2 norm of the difference, per output channel."""
    if before.shape != after.shape:
        raise LabError("eval.shape_mismatch", a=before.numel(), b=after.numel())
    return (after - before).flatten(1).norm(dim=1)


def top_confusions(cm: torch.Tensor, k: int = 3) -> list[tuple[int, int, int]]:
    """The k most frequent mistakes as (true digit, answered digit, count), largest first; zero counts left out."""
    off = cm.clone()
    off.fill_diagonal_(0)
    counts, flat = off.flatten().sort(descending=True, stable=True)
    n = off.shape[1]
    return [(int(i) // n, int(i) % n, int(c)) for c, i in zip(counts[:k], flat[:k]) if c > 0]


def tile_maps(maps: torch.Tensor, cols: int, gap: int = 1) -> torch.Tensor:
    """(C, H, W) feature maps -> one (rows*(H+gap)-gap, cols*(W+gap)-gap) picture, NaN between and after the tiles."""
    if maps.dim() != 3 or cols < 1:
        raise LabError("eval.shape_mismatch", a=maps.dim(), b=3)
    c, h, w = maps.shape
    rows = -(-c // cols)
    out = torch.full((rows * (h + gap) - gap, cols * (w + gap) - gap), float("nan"))
    for i in range(c):
        r, q = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, q * (w + gap) : q * (w + gap) + w] = maps[i].float()
    return out


def preference(mistake: str, test_acc: float, epochs: int) -> tuple[bool, float, int]:
    """Sort key (largest first) for offering trained runs: correct training loops before deliberate mistakes (the
    pitfalls lab's short runs), then the most accurate, then the longest trained."""
    return mistake == "none", round(test_acc, 4), epochs
