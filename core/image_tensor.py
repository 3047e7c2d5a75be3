"""Image to tensor: 0-255 pixels, ToTensor's [0, 1], Normalize, histograms, and [H, W, C] vs [C, H, W]."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from core.data import MEAN, STD
from core.errors import LabError
from core.images import to_chw

NORMS = ("course", "dataset")  # Normalize((0.5,), (0.5,)) as in the course, or the digits' own mean and std
WINDOWS = (7, 10, 14, 28)  # sides of the zoomed window: 7 and 10 readable from a classroom's back row, 28 the whole


@dataclass(frozen=True)
class Histogram:
    """Counts of values in equal bins between lo and hi."""

    edges: torch.Tensor  # (bins + 1,)
    counts: torch.Tensor  # (bins,) int64


@dataclass(frozen=True)
class TensorStats:
    """What print(t.shape, t.dtype, t.min(), t.max()) would tell."""

    shape: tuple[int, ...]
    dtype: str  # "torch.uint8", "torch.float32"
    minimum: float
    maximum: float
    mean: float
    std: float


@dataclass(frozen=True)
class DigitStages:
    """One digit at each step of transforms.Compose([ToTensor(), Normalize(mean, std)])."""

    raw: torch.Tensor  # (28, 28) uint8, 0-255, as stored
    unit: torch.Tensor  # (1, 28, 28) float32 in [0, 1] after ToTensor
    normalized: torch.Tensor  # (1, 28, 28) float32 after Normalize
    mean: float
    std: float

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        """Where each stage's values can lie: 0-255, [0, 1] and [(0 - mean) / std, (1 - mean) / std]."""
        return {"raw": (0.0, 255.0), "unit": (0.0, 1.0),
                "normalized": ((0.0 - self.mean) / self.std, (1.0 - self.mean) / self.std)}

    @property
    def tensors(self) -> dict[str, torch.Tensor]:
        """The three stages by name."""
        return {"raw": self.raw, "unit": self.unit, "normalized": self.normalized}


def to_tensor(pixels: torch.Tensor) -> torch.Tensor:
    """What torchvision's ToTensor does to an 8-bit picture: (H, W) or (H, W, C) uint8 -> (C, H, W) float in [0, 1]."""
    if pixels.dtype != torch.uint8 or pixels.dim() not in (2, 3):
        raise LabError("tensor.bad_pixels", shape=tuple(pixels.shape), dtype=str(pixels.dtype))
    hwc = pixels.unsqueeze(-1) if pixels.dim() == 2 else pixels  # (H, W, C)
    return to_chw(hwc)  # (C, H, W)


def normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Normalize(mean, std): (x - mean[c]) / std[c] for each channel c of x (C, H, W)."""
    if len(mean) != x.shape[0] or len(std) != x.shape[0]:
        raise LabError("tensor.channels_mismatch", channels=x.shape[0], given=len(mean))
    if any(not (math.isfinite(s) and s > 0) for s in std) or any(not math.isfinite(m) for m in mean):
        raise LabError("tensor.bad_std", std=", ".join(f"{s:g}" for s in std))
    m = torch.tensor(mean, dtype=x.dtype).view(-1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype).view(-1, 1, 1)
    return (x - m) / s


def mean_std(images: torch.Tensor) -> tuple[float, float]:
    """Mean and standard deviation of all pixels of uint8 images (N, H, W) after ToTensor (the usual z-score)."""
    total, squares, count = 0.0, 0.0, images.numel()
    for start in range(0, len(images), 5000):  # in chunks: full MNIST in float64 at once would take ~0.4 GB
        x = images[start : start + 5000].to(torch.float64) / 255.0
        total += float(x.sum())
        squares += float((x * x).sum())
    mean = total / count
    return mean, max(squares / count - mean * mean, 0.0) ** 0.5


def norm_params(name: str, images: torch.Tensor) -> tuple[float, float]:
    """(mean, std) of a Normalize choice: the course's (0.5, 0.5) or the training digits' own statistics."""
    if name == "course":
        return MEAN, STD
    if name == "dataset":
        return mean_std(images)
    raise LabError("tensor.bad_norm", name=name)


def digit_stages(raw: torch.Tensor, mean: float, std: float) -> DigitStages:
    """A 28x28 uint8 digit through ToTensor and then Normalize((mean,), (std,))."""
    unit = to_tensor(raw)  # (1, 28, 28)
    return DigitStages(raw, unit, normalize(unit, [mean], [std]), mean, std)


def histogram(x: torch.Tensor, bins: int, lo: float, hi: float) -> Histogram:
    """How many values of x fall in each of `bins` equal bins over [lo, hi] (the last bin includes hi)."""
    if bins < 1 or not hi > lo:
        raise LabError("tensor.bad_bins", bins=bins)
    values = x.detach().flatten().to(torch.float64)
    edges = torch.linspace(lo, hi, bins + 1, dtype=torch.float64)
    inside = values[(values >= lo) & (values <= hi)]
    index = (torch.bucketize(inside, edges, right=True) - 1).clamp(max=bins - 1)  # a value on an edge opens its bin
    return Histogram(edges, torch.bincount(index, minlength=bins))


def stats(x: torch.Tensor) -> TensorStats:
    """Shape, dtype and value range of a tensor."""
    v = x.detach().to(torch.float64)
    return TensorStats(tuple(x.shape), str(x.dtype), float(v.min()), float(v.max()), float(v.mean()),
                       float(v.std(unbiased=False)))


def sample_picture(height: int = 36, width: int = 48) -> torch.Tensor:
    """A small colour test card (H, W, 3) uint8: red, green and blue bars over a grey ramp, for when nothing is uploaded."""
    ramp = torch.linspace(0, 255, width).round().to(torch.uint8)  # (W,)
    rgb = ramp.view(1, width, 1).expand(height, width, 3).clone()  # (H, W, 3)
    third = width // 3
    band = slice(height // 4, 3 * height // 4)
    for c in range(3):
        rgb[band, c * third : (c + 1) * third] = 0
        rgb[band, c * third : (c + 1) * third, c] = 255
    return rgb


def pixel_both_ways(rgb: torch.Tensor, row: int, col: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One pixel read from [H, W, C] as rgb[row, col, :] and from ToTensor's [C, H, W] as chw[:, row, col]."""
    h, w = rgb.shape[:2]
    if not (0 <= row < h and 0 <= col < w):
        raise LabError("tensor.pixel_outside", row=row, col=col, height=h, width=w)
    return rgb[row, col, :], to_tensor(rgb)[:, row, col]


def preview(chw: torch.Tensor, max_side: int = 96) -> torch.Tensor:
    """A (C, h, w) copy no larger than max_side on either side (area-averaged), light enough to draw as heatmaps."""
    h, w = chw.shape[1:]
    scale = max_side / max(h, w)
    if scale >= 1:
        return chw
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(chw.unsqueeze(0), size=size, mode="area")[0]  # (C, h, w)


def window(grid: torch.Tensor, size: int, top: int, left: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """The size x size square of a 2-D grid whose top-left cell is (top, left), moved inside the grid if it would
    stick out: (grid[r0:r0 + size, c0:c0 + size], (r0, c0)). A size larger than the grid gives the whole grid, one
    under 1 a single cell."""
    h, w = grid.shape
    size = max(size, 1)
    r0, c0 = min(max(top, 0), max(h - size, 0)), min(max(left, 0), max(w - size, 0))
    return grid[r0 : r0 + size, c0 : c0 + size], (r0, c0)
