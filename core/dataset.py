"""Dataset and DataLoader: one sample at a time, shuffled batches, iterations per epoch, and gradient noise."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from core.data import to_model_input
from core.errors import LabError
from core.lenet import LeNetConfig, build_lenet

# The dataset page's fixed measurements: computed once per dataset (at server start) and shared by the whole class,
# with the course's seed. A seed from a link only reorders the loader's batches, which costs milliseconds.
MEASURE_SEED = 0
NOISE_N, NOISE_SIZES, NOISE_BATCHES = 2000, (8, 16, 32, 64, 128, 256, 512), 12  # ~1-3 s once per dataset
TEST_SIZES = (1, 64, 300, 1000)  # 1 and 1000 as in the notes; 64 and 300 leave a smaller last batch


class DigitDataset(Dataset):
    """The course's custom Dataset: __init__ runs once, __len__ counts samples, __getitem__ hands out one."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, normalize: bool = True) -> None:
        if len(images) != len(labels):
            raise LabError("loader.length_mismatch", images=len(images), labels=len(labels))
        self.images = images  # (N, 28, 28) uint8, shared: never modified
        self.labels = labels  # (N,) int64
        self.normalize = normalize

    def __len__(self) -> int:
        """How many samples there are."""
        return len(self.labels)

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, int]:
        """Sample idx as (image (1, 28, 28) float, label): ToTensor, then Normalize if asked."""
        if not -len(self) <= idx < len(self):
            raise LabError("loader.index_outside", index=idx, n=len(self))
        return to_model_input(self.images[idx : idx + 1], self.normalize)[0], int(self.labels[idx])


def check_sizes(n: int, batch_size: int) -> None:
    """LabError unless there is at least one sample and the batch size is positive."""
    if n < 1:
        raise LabError("loader.empty")
    if batch_size < 1:
        raise LabError("loader.bad_batch", batch_size=batch_size)


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = True, drop_last: bool = False,
                seed: int = 0) -> DataLoader:
    """A real DataLoader whose shuffling comes from its own seeded generator (same seed, same batches)."""
    check_sizes(len(dataset), batch_size)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      generator=torch.Generator().manual_seed(seed))


def iterations_per_epoch(n: int, batch_size: int, drop_last: bool) -> int:
    """Batches in one epoch: ceil(n / batch) keeps a smaller last batch, floor(n / batch) drops it."""
    check_sizes(n, batch_size)
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def last_batch_size(n: int, batch_size: int, drop_last: bool) -> int:
    """Size of the epoch's last batch (0 when drop_last leaves no batch at all)."""
    if iterations_per_epoch(n, batch_size, drop_last) == 0:
        return 0
    return batch_size if drop_last or n % batch_size == 0 else n % batch_size


@dataclass(frozen=True)
class EpochPlan:
    """What a DataLoader will hand out, read from its own batch sampler (no image is loaded)."""

    iterations: int  # len(loader)
    batch_sizes: tuple[int, ...]  # of the first epoch
    dropped: int  # samples never seen in an epoch because of drop_last
    first_batches: tuple[tuple[int, ...], ...]  # indices of the first batch of epoch 1, 2, ...
    sampler: str = ""  # type(loader.sampler).__name__: RandomSampler when shuffling, else SequentialSampler
    batch_sampler: str = ""  # type(loader.batch_sampler).__name__: groups the sampler's indices into batches


class _Indices(Dataset):
    """A dataset whose samples are their own indices: iterating a loader over it shows which samples a batch gets."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, idx: int) -> int:
        return idx


def _one_epoch(loader: DataLoader) -> tuple[list[int], list[int]]:
    """The index lists of the first and the last batch of one epoch of a loader over _Indices, drawn as iterating
    it does ([], [] when the epoch has no batch).

    The loader's iterator draws from the generator exactly as a whole epoch would (its base seed, then the sampler's
    permutation and its end-of-epoch draw), but only the first batch is loaded: the rest of the epoch is read from its
    batch sampler as lists of indices, so batch size 1 over 60,000 digits costs milliseconds, not seconds."""
    it = iter(loader)
    first = next(it, None)  # a real batch: the base seed and the permutation are drawn here
    rest = getattr(it, "_sampler_iter", None)  # the same batch sampler iterator the loader reads its indices from
    if first is None:
        return [], []
    first_idx = [int(i) for i in first]  # (B,) indices, collated
    if rest is None:  # another DataLoader implementation: walk the epoch itself
        return first_idx, [int(i) for i in [first, *it][-1]]
    last = first_idx
    for last in rest:  # drains the epoch (and the sampler's last draw) without fetching a sample
        pass
    return first_idx, [int(i) for i in last]


def epoch_plan(n: int, batch_size: int, shuffle: bool, drop_last: bool, seed: int, epochs: int = 2) -> EpochPlan:
    """What a real DataLoader made like make_loader(...) hands out over n indices, epoch after epoch (reshuffled every
    epoch when shuffle=True), without loading an image: the same batches as iterating it (tests check this)."""
    loader = make_loader(_Indices(n), batch_size, shuffle, drop_last, seed)
    firsts = tuple(tuple(_one_epoch(loader)[0]) for _ in range(epochs))
    iterations = len(loader)
    last = last_batch_size(n, batch_size, drop_last)
    sizes = (batch_size,) * (iterations - 1) + (last,) if iterations else ()
    return EpochPlan(iterations, sizes, n - sum(sizes), firsts, type(loader.sampler).__name__,
                     type(loader.batch_sampler).__name__)


@dataclass(frozen=True)
class BatchShapes:
    """Shapes of the first and the last batch a real DataLoader yields in one epoch."""

    batches: int  # len(loader)
    first: tuple[tuple[int, ...], tuple[int, ...]]  # (images (B, 1, 28, 28), labels (B,))
    last: tuple[tuple[int, ...], tuple[int, ...]]  # the same for the epoch's last batch (smaller unless B divides N)


def batch_shapes(dataset: Dataset, batch_size: int, shuffle: bool, drop_last: bool, seed: int) -> BatchShapes | None:
    """The shapes of the first and the last batch of one epoch of make_loader(...) (None: no batch at all). Both
    batches are built by the loader's own collate function from the indices it draws; the batches between them are
    not loaded."""
    loader = make_loader(dataset, batch_size, shuffle, drop_last, seed)
    # the same seed draws the same indices whatever the samples are: plan them over _Indices, then load two batches
    first_idx, last_idx = _one_epoch(make_loader(_Indices(len(dataset)), batch_size, shuffle, drop_last, seed))
    if not first_idx:
        return None
    shapes = []
    for idx in (first_idx, last_idx):
        x, y = loader.collate_fn([dataset[i] for i in idx])  # (B, 1, 28, 28), (B,)
        shapes.append((tuple(x.shape), tuple(y.shape)))
    return BatchShapes(len(loader), shapes[0], shapes[1])


@dataclass(frozen=True)
class LoaderEval:
    """One pass of the notes' test() over a test loader of one batch size."""

    batch_size: int
    batches: int  # len(loader)
    last_batch: int  # samples in the last batch
    accuracy: float  # correct / samples
    mean_loss: float  # summed per-sample losses / samples: the true mean
    mean_of_batch_means: float  # sum of the batch means / batches, as the notes' test() computes it
    seconds: float  # wall time of the pass


@torch.no_grad()
def evaluate_loader(model: torch.nn.Module, dataset: Dataset, batch_size: int) -> LoaderEval:
    """Test `model` (in eval mode, no_grad) on every sample of `dataset`, batch_size at a time, with a real DataLoader."""
    loader = make_loader(dataset, batch_size, shuffle=False)
    was_training = model.training
    model.eval()
    started = time.perf_counter()
    summed, batch_means, correct, n, last = 0.0, 0.0, 0, 0, 0
    for x, y in loader:
        logits = model(x)  # (B, 10)
        summed += F.cross_entropy(logits, y, reduction="sum").item()
        batch_means += F.cross_entropy(logits, y).item()
        correct += int((logits.argmax(1) == y).sum())
        n, last = n + len(y), len(y)
    seconds = time.perf_counter() - started
    model.train(was_training)
    return LoaderEval(batch_size, len(loader), last, correct / n, summed / n, batch_means / len(loader), seconds)


def scaled_lr(base_lr: float, base_batch: int, new_batch: int) -> float:
    """The linear scaling rule: new lr = base lr x new batch / base batch."""
    if not (math.isfinite(base_lr) and base_lr > 0):
        raise LabError("loader.bad_lr", lr=base_lr)
    check_sizes(1, min(base_batch, new_batch))
    return base_lr * new_batch / base_batch


@dataclass(frozen=True)
class GradientNoise:
    """How far the gradients of several batches of one size land from the gradient of the whole set."""

    batch_size: int
    deviations: tuple[float, ...]  # ||g_batch - g_all|| / ||g_all||, one per batch

    @property
    def mean(self) -> float:
        """The average relative deviation: the gradient noise of this batch size."""
        return sum(self.deviations) / len(self.deviations)


def flat_gradient(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 500) -> torch.Tensor:
    """Gradient of the mean cross-entropy over (x, y) w.r.t. every parameter, as one vector (chunked, same value)."""
    model.zero_grad()
    for i in range(0, len(y), chunk):
        loss = F.cross_entropy(model(x[i : i + chunk]), y[i : i + chunk], reduction="sum") / len(y)
        loss.backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])  # (61706,) for LeNet-5


def gradient_noise(images: torch.Tensor, labels: torch.Tensor, batch_sizes: Sequence[int], batches: int = 12,
                   seed: int = 0, config: LeNetConfig = LeNetConfig()) -> list[GradientNoise]:
    """Real LeNet-5 gradients (seeded initial weights) on `batches` shuffled batches of each size, vs the full set's."""
    dataset = DigitDataset(images, labels)
    model = build_lenet(config, seed)
    x_all = to_model_input(images)  # (N, 1, 28, 28)
    full = flat_gradient(model, x_all, labels)
    norm = float(full.norm())
    out = []
    for size in batch_sizes:
        check_sizes(len(labels), size)
        loader = make_loader(dataset, size, shuffle=True, drop_last=True, seed=seed)
        devs = []
        for i, (xb, yb) in enumerate(loader):
            if i == batches:
                break
            devs.append(float((flat_gradient(model, xb, yb) - full).norm()) / norm)
        if not devs:
            raise LabError("loader.batch_too_large", batch_size=size, n=len(labels))
        out.append(GradientNoise(size, tuple(devs)))
    return out


def sampling_theory(n: int, reference: GradientNoise, batch_sizes: Sequence[int]) -> list[float]:
    """Noise the textbook predicts from one measured size: sqrt(1/B) with the finite-set factor sqrt((n-B)/(n-1))."""
    def shape(b: int) -> float:
        return math.sqrt(max(n - b, 0) / (b * (n - 1)))

    return [reference.mean * shape(b) / shape(reference.batch_size) for b in batch_sizes]
