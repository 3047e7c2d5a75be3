"""The pitfalls lab: each classic training bug as a pair of runs (correct, mistaken) and a small probe of why it hurts."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.data import to_model_input
from core.errors import LabError
from core.lenet import LeNet5, LeNetConfig, build_lenet
from core.training import TrainConfig, evaluate, loss_of

PITFALLS = ("no_zero_grad", "optimizer_in_loop", "softmax_before_loss", "no_eval", "no_normalize")
NO_EVAL_DROPOUT = 0.5  # forgetting eval() only matters with dropout: the pair gets some if the base has none
# The course's setup: tanh + SGD(lr=0.01, momentum=0.9); small enough that a pair trains in a few seconds.
BASE = TrainConfig(activation="tanh", optimizer="sgd", lr=0.01, momentum=0.9, batch_size=64, epochs=3,
                   train_size=2000)


def pitfall_pair(name: str, base: TrainConfig = BASE) -> tuple[TrainConfig, TrainConfig]:
    """(correct, mistaken): two runs that differ in the pitfall only (same seed, same data, same batches)."""
    correct = base.but(mistake="none", normalize=True)
    if name == "no_normalize":
        return correct, correct.but(normalize=False)
    if name == "no_eval":
        with_dropout = correct.but(dropout=base.dropout or NO_EVAL_DROPOUT)
        return with_dropout, with_dropout.but(mistake="no_eval")
    if name in PITFALLS:
        return correct, correct.but(mistake=name)
    raise LabError("pitfalls.unknown", name=name)


def _batches(images: torch.Tensor, labels: torch.Tensor, steps: int, batch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    if steps < 1 or batch < 1 or steps * batch > len(labels):
        raise LabError("pitfalls.bad_probe", steps=steps, batch=batch, n=len(labels))
    x = to_model_input(images[: steps * batch])  # (steps * batch, 1, 28, 28)
    return [(x[i * batch : (i + 1) * batch], labels[i * batch : (i + 1) * batch]) for i in range(steps)]


def grad_norms(images: torch.Tensor, labels: torch.Tensor, zero_grad: bool, steps: int = 10, batch: int = 64,
               seed: int = 0) -> list[float]:
    """Norm of what .grad holds after each backward() on a new batch (no optimizer step): without zero_grad it piles up."""
    model = build_lenet(LeNetConfig(), seed)
    out = []
    for xb, yb in _batches(images, labels, steps, batch):
        if zero_grad:
            model.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        out.append(float(torch.cat([p.grad.flatten() for p in model.parameters()]).norm()))
    return out


def step_lengths(images: torch.Tensor, labels: torch.Tensor, recreate: bool, steps: int = 30, batch: int = 64,
                 seed: int = 0, lr: float = 0.01, momentum: float = 0.9) -> list[float]:
    """How far SGD with momentum moves the weights at each step; a new optimizer every step forgets its velocity."""
    model = build_lenet(LeNetConfig(), seed)
    params = list(model.parameters())
    optimizer = torch.optim.SGD(params, lr=lr, momentum=momentum)
    out = []
    for xb, yb in _batches(images, labels, steps, batch):
        if recreate:
            optimizer = torch.optim.SGD(params, lr=lr, momentum=momentum)
        before = torch.cat([p.detach().flatten() for p in params])
        optimizer.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        optimizer.step()
        out.append(float((torch.cat([p.detach().flatten() for p in params]) - before).norm()))
    return out


def softmax_loss_floor(classes: int = 10) -> float:
    """The smallest loss cross_entropy(softmax(logits)) can reach: even a perfect one-hot answer scores log(1 + (k-1)/e)."""
    if classes < 2:
        raise LabError("pitfalls.bad_classes", classes=classes)
    perfect = F.one_hot(torch.tensor([0]), classes).double() * 1e4  # logits of a certain answer
    return float(loss_of(perfect, torch.tensor([0]), "softmax_before_loss"))


def logit_grad_sizes(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Mean |dloss/dlogits| with plain cross-entropy and with softmax first: the squashed version barely moves."""
    sizes = []
    for mistake in ("none", "softmax_before_loss"):
        z = logits.detach().clone().requires_grad_(True)
        loss_of(z, labels, mistake).backward()
        sizes.append(float(z.grad.abs().mean()))
    return sizes[0], sizes[1]


@dataclass(frozen=True)
class RepeatedTest:
    """The same trained model scored several times on the same test digits."""

    with_eval: tuple[float, ...]
    without_eval: tuple[float, ...]


def repeated_test(model: LeNet5, images: torch.Tensor, labels: torch.Tensor, normalize: bool = True,
                  repeats: int = 3) -> RepeatedTest:
    """Test accuracy `repeats` times with eval() and without: with dropout still on the scores change each time.
    Works on a copy, so a shared trained model is never touched."""
    if repeats < 1:
        raise LabError("pitfalls.bad_probe", steps=repeats, batch=0, n=len(labels))
    mine = copy.deepcopy(model)
    x = to_model_input(images, normalize)
    scores = {mode: tuple(evaluate(mine, x, labels, eval_mode=mode)[1] for _ in range(repeats)) for mode in (True, False)}
    return RepeatedTest(scores[True], scores[False])


def relative_change(correct: float, mistaken: float) -> float:
    """(mistaken - correct) / correct; inf when the correct value is 0."""
    return (mistaken - correct) / correct if correct else math.inf
