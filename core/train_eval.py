"""model.train() vs model.eval(): dropout and batch norm change behaviour; torch.no_grad() saves memory and time."""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn as nn

from core.errors import LabError
from core.seeding import seeded

MODES = ("train", "eval")

NO_GRAD_BATCHES = (1, 16, 64, 256, 1000)  # the no_grad measurement's batch sizes
NO_GRAD_BATCH = 256  # the one it opens on
MODES_BATCH, STATS_BATCH, EVAL_STEPS = 16, 32, 5  # digits per call, per running-statistics batch; eval() calls after
DEFAULT_DROPOUT, DEFAULT_MOMENTUM, DEFAULT_REPEATS, DEFAULT_STEPS = 0.5, 0.1, 5, 20  # what the page opens on


class ModeNet(nn.Module):
    """A small digit classifier with the two layers that act differently in train() and eval(): BatchNorm and Dropout."""

    def __init__(self, dropout: float = 0.5, momentum: float = 0.1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=5)  # (N, 4, 24, 24)
        self.bn = nn.BatchNorm2d(4, momentum=momentum)  # train: batch statistics; eval: running statistics
        self.act = nn.ReLU()
        self.pool = nn.MaxPool2d(4)  # (N, 4, 6, 6)
        self.drop = nn.Dropout(dropout)  # train: zeroes units at random; eval: does nothing
        self.fc = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, 10) for digits (N, 1, 28, 28)."""
        x = self.pool(self.act(self.bn(self.conv(x))))
        return self.fc(self.drop(x.flatten(1)))


def _check(dropout: float, momentum: float, repeats: int = 1) -> None:
    if not 0.0 <= dropout < 1.0:
        raise LabError("modes.bad_dropout", p=dropout)
    if not 0.0 < momentum <= 1.0:
        raise LabError("modes.bad_momentum", momentum=momentum)
    if repeats < 1:
        raise LabError("modes.bad_repeats", repeats=repeats)


@dataclass(frozen=True, eq=False)
class ModeRun:
    """The same batch passed `repeats` times through a fresh ModeNet in one mode."""

    mode: str
    logits: torch.Tensor  # (repeats, 10): the first digit's logits at each call
    running_mean: torch.Tensor  # (repeats + 1, 4): batch norm's running mean before and after each call
    tracked: int  # bn.num_batches_tracked at the end

    @property
    def spread(self) -> float:
        """Largest difference between two calls for any logit: 0 means the output is fixed."""
        return float((self.logits.max(0).values - self.logits.min(0).values).max())


def repeat_forward(x: torch.Tensor, mode: str, repeats: int = 5, dropout: float = 0.5, momentum: float = 0.1,
                   seed: int = 0) -> ModeRun:
    """torch.manual_seed(seed); model = ModeNet(...); model.train() or .eval(); then call model(x) `repeats` times."""
    if mode not in MODES:
        raise LabError("modes.bad_mode", mode=mode)
    _check(dropout, momentum, repeats)
    if mode == "train" and len(x) < 2:
        raise LabError("modes.batch_of_one")
    with seeded(seed), torch.no_grad():
        model = ModeNet(dropout, momentum).train(mode == "train")
        means, outs = [model.bn.running_mean.clone()], []
        for _ in range(repeats):
            outs.append(model(x)[0])  # (10,)
            means.append(model.bn.running_mean.clone())
    return ModeRun(mode, torch.stack(outs), torch.stack(means), int(model.bn.num_batches_tracked))


@dataclass(frozen=True, eq=False)
class StatsTrace:
    """Batch norm's running statistics while batches go through in train mode, then in eval mode."""

    batch_mean: torch.Tensor  # (steps, 4): mean of each channel of the batch norm's input in each train batch
    running_mean: torch.Tensor  # (steps + eval_steps + 1, 4): running mean before and after every call
    running_var: torch.Tensor  # (steps + eval_steps + 1, 4)
    train_steps: int


def running_stats(batches: list[torch.Tensor], eval_steps: int = 3, momentum: float = 0.1,
                  seed: int = 0) -> StatsTrace:
    """Forward passes only, no backward and no optimizer: train mode still moves the running statistics; eval does not."""
    _check(0.0, momentum)
    if not batches:
        raise LabError("modes.bad_repeats", repeats=0)
    seen: list[torch.Tensor] = []
    with seeded(seed), torch.no_grad():
        model = ModeNet(0.0, momentum)
        hook = model.bn.register_forward_pre_hook(lambda _m, args: seen.append(args[0].mean((0, 2, 3))))
        means, variances = [model.bn.running_mean.clone()], [model.bn.running_var.clone()]
        calls = [(b, True) for b in batches] + [(batches[-1], False)] * eval_steps
        for xb, training in calls:
            model.train(training)
            model(xb)
            means.append(model.bn.running_mean.clone())
            variances.append(model.bn.running_var.clone())
        hook.remove()
    return StatsTrace(torch.stack(seen[: len(batches)]), torch.stack(means), torch.stack(variances), len(batches))


@dataclass(frozen=True)
class Savings:
    """One forward pass with and without gradient tracking, measured on this machine."""

    batch: int
    seconds_grad: float  # fastest of the repeats (the least disturbed by other work on the machine)
    seconds_no_grad: float
    saved_bytes_grad: int  # bytes autograd keeps for backward (distinct storages, parameters included)
    saved_bytes_no_grad: int  # under no_grad nothing is saved
    saved_tensors_grad: int  # how many tensors were packed for backward


def _saved_bytes(model: nn.Module, x: torch.Tensor, track: bool) -> tuple[int, int]:
    """Bytes and count of the tensors the forward pass packs for backward (saved_tensors_hooks sees each one)."""
    storages: dict[int, int] = {}
    packed = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal packed
        packed += 1
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), torch.set_grad_enabled(track):
        model(x)
    return sum(storages.values()), packed


def _timed(model: nn.Module, x: torch.Tensor, track: bool) -> float:
    with torch.set_grad_enabled(track):
        start = time.perf_counter()
        model(x)
        return time.perf_counter() - start


def measure_no_grad(model: nn.Module, x: torch.Tensor, repeats: int = 11) -> Savings:
    """Time (fastest of repeats, alternating, as timeit advises) and saved-for-backward bytes of model(x) with and without tracking.
    The model is only read: this is safe on a shared model."""
    if repeats < 1:
        raise LabError("modes.bad_repeats", repeats=repeats)
    _timed(model, x, False)  # warm-up: first calls allocate
    grad_times, plain_times = [], []
    for _ in range(repeats):
        grad_times.append(_timed(model, x, True))
        plain_times.append(_timed(model, x, False))
    bytes_grad, count = _saved_bytes(model, x, True)
    bytes_plain, _ = _saved_bytes(model, x, False)
    return Savings(len(x), min(grad_times), min(plain_times), bytes_grad, bytes_plain, count)
