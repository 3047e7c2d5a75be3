"""The pitfalls lab: each classic training bug as a pair of runs (correct, mistaken) and a small probe of why it hurts."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.data import Digits, to_model_input
from core.errors import LabError
from core.lenet import LeNet5, LeNetConfig, build_lenet
from core.training import TrainConfig, evaluate, loss_of, make_optimizer

PITFALLS = ("no_zero_grad", "optimizer_in_loop", "softmax_before_loss", "no_eval", "no_normalize")
PROBES = ("call_order", "accumulation")  # measured on the spot, no pair of background runs
# The three calls of a training step in every order: z = zero_grad(), b = backward(), s = step(); correct ones first.
ORDERS = ("zbs", "bsz", "szb", "zsb", "bzs", "sbz")
NO_EVAL_DROPOUT = 0.5  # forgetting eval() only matters with dropout: the pair gets some if the base has none
PROBE_STEPS, PROBE_BATCH = 20, 64  # the three bug probes: a few batches of LeNet-5
# The course's setup: tanh + SGD(lr=0.01, momentum=0.9); small enough that a pair trains in a few seconds.
BASE = TrainConfig(activation="tanh", optimizer="sgd", lr=0.01, momentum=0.9, batch_size=64, epochs=3,
                   train_size=2000)


def probe_config_of(base: TrainConfig) -> TrainConfig:
    """The setting the probes of one training step use: the page's, without dropout."""
    return base.but(dropout=0.0)


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
               seed: int = 0, config: LeNetConfig = LeNetConfig()) -> list[float]:
    """Norm of what .grad holds after each backward() on a new batch (no optimizer step): without zero_grad it piles up."""
    model = build_lenet(config, seed)
    out = []
    for xb, yb in _batches(images, labels, steps, batch):
        if zero_grad:
            model.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        out.append(float(torch.cat([p.grad.flatten() for p in model.parameters()]).norm()))
    return out


def _flat_weights(params: list[torch.Tensor]) -> torch.Tensor:
    """Every weight as one vector (P,), detached: to measure how far a step moved them."""
    return torch.cat([p.detach().flatten() for p in params])


def step_lengths(images: torch.Tensor, labels: torch.Tensor, recreate: bool, steps: int = 30, batch: int = 64,
                 config: TrainConfig = BASE) -> list[float]:
    """How far config's optimizer moves the weights at each step; a new optimizer every step forgets its state
    (SGD's velocity, Adam's running averages)."""
    model = build_lenet(config.lenet, config.seed)
    params = list(model.parameters())
    optimizer = make_optimizer(config, params)
    out = []
    for xb, yb in _batches(images, labels, steps, batch):
        if recreate:
            optimizer = make_optimizer(config, params)
        before = _flat_weights(params)
        optimizer.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        optimizer.step()
        out.append(float((_flat_weights(params) - before).norm()))
    return out


@dataclass(frozen=True)
class Probe:
    """A bug's mechanism measured on real digits, the correct code beside the mistaken one."""

    correct: tuple[float, ...]  # one value per step, or a single value
    mistake: tuple[float, ...]  # the same with the bug


def bug_probe(name: str, data: Digits, config: TrainConfig = BASE, steps: int = 20, batch: int = 64) -> Probe:
    """A few steps of LeNet-5 showing what the bug does: no_zero_grad, the gradient norm .grad holds after each
    backward(); optimizer_in_loop, how far each step moves the weights; softmax_before_loss, the mean logit gradient
    of the first `batch` test digits (one value each)."""
    images, labels = data.train_images, data.train_labels
    if name == "no_zero_grad":
        return Probe(correct=tuple(grad_norms(images, labels, True, steps, batch, config.seed, config.lenet)),
                     mistake=tuple(grad_norms(images, labels, False, steps, batch, config.seed, config.lenet)))
    if name == "optimizer_in_loop":
        return Probe(correct=tuple(step_lengths(images, labels, False, steps, batch, config)),
                     mistake=tuple(step_lengths(images, labels, True, steps, batch, config)))
    if name == "softmax_before_loss":
        with torch.no_grad():
            logits = build_lenet(config.lenet, config.seed).eval()(to_model_input(data.test_images[:batch]))
        plain, squashed = logit_grad_sizes(logits, data.test_labels[:batch])
        return Probe(correct=(plain,), mistake=(squashed,))
    raise LabError("pitfalls.unknown", name=name)


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


def _flat_grad(params: list[torch.Tensor]) -> torch.Tensor | None:
    """What .grad holds, as one vector (None when every .grad is None)."""
    if all(p.grad is None for p in params):
        return None
    return torch.cat([(torch.zeros_like(p) if p.grad is None else p.grad).flatten() for p in params])


@dataclass(frozen=True)
class OrderRun:
    """A short training with the three calls of each step in a given order."""

    order: str  # e.g. "zbs": zero_grad(), backward(), step()
    losses: tuple[float, ...]  # loss of each batch, before that iteration's calls
    used: tuple[int | None, ...]  # per step(): the batch (0-based) whose gradient .grad held; None: empty or zero
    failed_at: int | None = None  # batch (0-based) whose backward() torch refused, ending the run
    error: str = ""  # torch's message, first line

    @property
    def learns(self) -> bool:
        """Some step() applied a gradient."""
        return any(u is not None for u in self.used)


def call_order_run(images: torch.Tensor, labels: torch.Tensor, order: str, config: TrainConfig = BASE,
                   steps: int = 40, batch: int = 32) -> OrderRun:
    """Train `steps` batches calling zero_grad / backward / step in `order` after each forward pass; at every step()
    compare what .grad holds with the gradient each earlier backward() left, to tell which batch's gradient the
    update used. A step() that changes the weights between a forward pass and its backward() makes torch refuse
    that backward(): the run stops there and records torch's message."""
    if sorted(order) != ["b", "s", "z"]:
        raise LabError("pitfalls.bad_order", order=order)
    model = build_lenet(config.lenet, config.seed)
    params = list(model.parameters())
    optimizer = make_optimizer(config, params)
    left: list[torch.Tensor] = []  # the gradient each backward() left in .grad, batch by batch
    losses, used = [], []
    for i, (xb, yb) in enumerate(_batches(images, labels, steps, batch)):
        loss = F.cross_entropy(model(xb), yb)
        losses.append(loss.item())
        for call in order:
            if call == "z":
                optimizer.zero_grad()
            elif call == "b":
                try:
                    loss.backward()
                except RuntimeError as exc:  # weights saved by the forward pass were changed in place by step()
                    return OrderRun(order, tuple(losses), tuple(used), i, str(exc).splitlines()[0])
                left.append(_flat_grad(params))
            else:
                now = _flat_grad(params)
                empty = now is None or not bool(now.any())
                used.append(None if empty else next(j for j in range(len(left) - 1, -1, -1) if torch.equal(now, left[j])))
                optimizer.step()
    return OrderRun(order, tuple(losses), tuple(used))


@dataclass(frozen=True)
class Accumulation:
    """Gradient accumulation over k small batches against one batch k times larger."""

    k: int
    micro: int  # samples per small batch
    accumulated: torch.Tensor  # (P,) zero_grad(), then backward() of loss / k on each of the k small batches
    big: torch.Tensor  # (P,) one backward() on the k * micro samples together
    undivided: torch.Tensor  # (P,) the k backward() calls without dividing the loss by k
    weight_gap: float  # max |w| difference after `updates` steps: accumulating (zero every k) vs big batches
    weight_gap_undivided: float  # the same without the division

    @property
    def difference(self) -> float:
        """Largest |accumulated - big| over all parameters: float rounding only."""
        return float((self.accumulated - self.big).abs().max())

    @property
    def ratio(self) -> float:
        """||undivided|| / ||big||: k when the division is forgotten."""
        return float(self.undivided.norm() / self.big.norm())

    @property
    def summary(self) -> "AccumulationSummary":
        """The four numbers the page shows, without the gradients."""
        return AccumulationSummary(difference=self.difference, ratio=self.ratio, weight_gap=self.weight_gap,
                                   weight_gap_undivided=self.weight_gap_undivided)


@dataclass(frozen=True)
class AccumulationSummary:
    """Accumulation's numbers only: cheap to cache (no parameter-sized tensors)."""

    difference: float  # largest |accumulated - big|: float rounding only
    ratio: float  # ||undivided|| / ||big||: k when the division is forgotten
    weight_gap: float  # max |w| difference after the updates: accumulating vs big batches
    weight_gap_undivided: float  # the same without dividing the loss by k


def _accumulate(model: LeNet5, micro_batches: list[tuple[torch.Tensor, torch.Tensor]], divide: bool) -> None:
    """backward() on each small batch, adding up in .grad; loss / k when divide."""
    for xb, yb in micro_batches:
        loss = F.cross_entropy(model(xb), yb)
        (loss / len(micro_batches) if divide else loss).backward()


def accumulation(images: torch.Tensor, labels: torch.Tensor, k: int, config: TrainConfig = BASE, micro: int = 16,
                 updates: int = 3) -> Accumulation:
    """The gradients of one accumulated step (with and without / k) and of one big batch, plus the weights after
    `updates` optimizer steps of each loop: zero_grad every k small batches, or every big batch."""
    if k < 1 or micro < 1 or updates < 1:
        raise LabError("pitfalls.bad_probe", steps=k * updates, batch=micro, n=len(labels))
    small = _batches(images, labels, k * updates, micro)  # k * updates small batches
    big = _batches(images, labels, updates, k * micro)  # the same samples, k at a time
    grads, weights = {}, {}
    for how in ("accumulated", "undivided", "big"):
        model = build_lenet(config.lenet, config.seed)
        params = list(model.parameters())
        optimizer = make_optimizer(config, params)
        for u in range(updates):
            optimizer.zero_grad()
            if how == "big":
                F.cross_entropy(model(big[u][0]), big[u][1]).backward()
            else:
                _accumulate(model, small[u * k : (u + 1) * k], divide=how == "accumulated")
            if u == 0:
                grads[how] = _flat_grad(params).clone()
            optimizer.step()
        weights[how] = _flat_weights(params)
    gap = {how: float((weights[how] - weights["big"]).abs().max()) for how in ("accumulated", "undivided")}
    return Accumulation(k, micro, grads["accumulated"], grads["big"], grads["undivided"], gap["accumulated"],
                        gap["undivided"])
