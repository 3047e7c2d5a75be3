"""Data augmentation: the same digit turned, shifted and scaled a little, as torchvision's RandomAffine does in a
training pipeline (a prior put into the data: a slightly rotated 7 is still a 7)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core.errors import LabError
from core.seeding import seeded

MAX_VARIANTS = 16


@dataclass(frozen=True, eq=False)
class Augmented:
    """A digit and `n` random affine copies of it, each with the parameters RandomAffine drew for it."""

    original: torch.Tensor  # (28, 28) float in [0, 1]
    variants: torch.Tensor  # (n, 28, 28)
    angles: tuple[float, ...]  # degrees, counter-clockwise
    shifts: tuple[tuple[int, int], ...]  # pixels (dx, dy)
    scales: tuple[float, ...]


def augment(image: torch.Tensor, n: int = 8, degrees: float = 15.0, shift: float = 0.1,
            zoom: float = 0.1, seed: int = 0) -> Augmented:
    """`n` copies of a (28, 28) uint8 digit through RandomAffine(degrees, translate=(shift, shift),
    scale=(1 - zoom, 1 + zoom)), seeded; each copy is drawn with RandomAffine.get_params and made by F.affine."""
    from torchvision.transforms import v2
    from torchvision.transforms.v2 import functional as TF

    if not 1 <= n <= MAX_VARIANTS:
        raise LabError("augment.bad_count", n=n, high=MAX_VARIANTS)
    if not (0 <= degrees <= 180 and 0 <= shift <= 0.5 and 0 <= zoom < 1):
        raise LabError("augment.bad_range", degrees=degrees, shift=shift, zoom=zoom)
    x = image.float().div(255)[None]  # (1, 28, 28): ToTensor's [0, 1]
    h, w = x.shape[-2:]
    out, angles, shifts, scales = [], [], [], []
    with seeded(seed):
        for _ in range(n):
            angle, (dx, dy), scale, shear = v2.RandomAffine.get_params(
                [-degrees, degrees], [shift, shift], [1 - zoom, 1 + zoom], None, [h, w])
            out.append(TF.affine(x, angle=angle, translate=[dx, dy], scale=scale, shear=list(shear))[0])
            angles.append(float(angle))
            shifts.append((int(dx), int(dy)))
            scales.append(float(scale))
    return Augmented(x[0], torch.stack(out), tuple(angles), tuple(shifts), tuple(scales))
