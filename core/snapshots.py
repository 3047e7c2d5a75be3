"""Watch it learn: small snapshots of a model as it trains (conv1 filters, one digit's conv1 maps and probabilities)."""
from __future__ import annotations

import io
from dataclasses import dataclass

import torch

from core.errors import LabError
from core.lenet import LeNet5

SNAPSHOT_LABEL = 7  # the digit every run is watched on ("why did it say 7?")
FIRST_EPOCH_BASE = 4  # within the first epoch, snapshots after 1, 4, 16, 64... batches: most change happens early


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The model at one moment, stored compactly: float16 filters and probabilities, maps quantized to 8 bits."""

    epoch: int  # 0 = before training; during epoch e, the batches done so far are in `batch`
    batch: int  # batches done within `epoch` (its last batch at the end of an epoch; 0 before training)
    filters: torch.Tensor  # (C1, k, k) float16: conv1's weights
    maps: torch.Tensor  # (C1, H, W) uint8: the digit's conv1 maps after the activation, scaled to low..high
    low: float  # the maps' smallest value (uint8 0)
    high: float  # their largest value (uint8 255)
    probs: torch.Tensor  # (10,) float16: softmax of the digit's logits

    @property
    def nbytes(self) -> int:
        """Bytes of tensor data held (two float32 scale numbers and two int32 counters included)."""
        return self.filters.nbytes + self.maps.nbytes + self.probs.nbytes + 4 * 4

    def feature_maps(self) -> torch.Tensor:
        """The maps back as float32 (C1, H, W), within (high - low) / 510 of the true values."""
        return self.low + self.maps.float() * ((self.high - self.low) / 255.0)


def pick_digit(images: torch.Tensor, labels: torch.Tensor, label: int = SNAPSHOT_LABEL) -> int:
    """Index of the test digit of `label` with the median amount of ink: a typical stroke, the same for every run."""
    idx = torch.nonzero(labels == label).flatten()  # (M,)
    if len(idx) == 0:
        raise LabError("snap.no_digit", label=label)
    ink = images[idx].flatten(1).double().sum(1)  # (M,)
    order = sorted(range(len(idx)), key=lambda i: (float(ink[i]), int(idx[i])))  # ties broken by index
    return int(idx[order[(len(order) - 1) // 2]])


def first_epoch_batches(batches: int) -> tuple[int, ...]:
    """Batch counts within the first epoch worth a snapshot: 1, 4, 16... below the epoch's end (which has its own)."""
    out, n = [], 1
    while n < batches:
        out.append(n)
        n *= FIRST_EPOCH_BASE
    return tuple(out)


def take_snapshot(model: LeNet5, x: torch.Tensor, epoch: int, batch: int) -> Snapshot:
    """A snapshot of model on the normalized digit x (1, 1, 28, 28); eval mode for the look, the mode restored after."""
    was_training = model.training
    model.eval()  # dropout off, and SeededDropout's generator untouched: the run goes on exactly as without snapshots
    try:
        with torch.no_grad():
            outs = model.forward_all(x)
    finally:
        model.train(was_training)
    maps = outs["act1"][0]  # (C1, H, W)
    low, high = float(maps.min()), float(maps.max())
    scale = (high - low) or 1.0
    quantized = ((maps - low) / scale * 255.0).round().clamp(0, 255).to(torch.uint8)  # (C1, H, W)
    filters = model.conv1.weight.detach()[:, 0].to(torch.float16).clone()  # (C1, k, k)
    probs = torch.softmax(outs["fc3"][0], dim=0).to(torch.float16)  # (10,)
    return Snapshot(epoch, batch, filters, quantized, low, high, probs)


def pack(snapshots: list[Snapshot] | tuple[Snapshot, ...]) -> dict[str, torch.Tensor]:
    """Stack snapshots into a few tensors (weights-only loading reads them; one header per tensor, not per snapshot)."""
    if not snapshots:
        return {}
    return {
        "when": torch.tensor([[s.epoch, s.batch] for s in snapshots], dtype=torch.int32),  # (S, 2)
        "range": torch.tensor([[s.low, s.high] for s in snapshots], dtype=torch.float32),  # (S, 2)
        "filters": torch.stack([s.filters for s in snapshots]),  # (S, C1, k, k) float16
        "maps": torch.stack([s.maps for s in snapshots]),  # (S, C1, H, W) uint8
        "probs": torch.stack([s.probs for s in snapshots]),  # (S, 10) float16
    }


def unpack(packed: dict[str, torch.Tensor]) -> tuple[Snapshot, ...]:
    """The snapshots back from pack(); LabError("snap.damaged") for anything else."""
    if not packed:
        return ()
    try:
        when, rng = packed["when"].tolist(), packed["range"].tolist()
        filters, maps, probs = packed["filters"], packed["maps"], packed["probs"]
        ok = (filters.dtype == torch.float16 and maps.dtype == torch.uint8 and probs.dtype == torch.float16
              and len(when) == len(rng) == len(filters) == len(maps) == len(probs) and probs.shape[1:] == (10,))
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        raise LabError("snap.damaged") from exc
    if not ok:
        raise LabError("snap.damaged")
    return tuple(Snapshot(int(e), int(b), f, m, float(lo), float(hi), p)
                 for (e, b), (lo, hi), f, m, p in zip(when, rng, filters, maps, probs))


def to_bytes(snap: Snapshot) -> bytes:
    """One snapshot as bytes (torch.save of pack), to cross a process boundary to something that has no torch."""
    out = io.BytesIO()
    torch.save(pack([snap]), out)
    return out.getvalue()


def from_bytes(data: bytes) -> Snapshot:
    """The snapshot back from to_bytes (weights-only loading); LabError("snap.damaged") for anything else."""
    try:
        packed = torch.load(io.BytesIO(data), weights_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever torch raises on bad bytes
        raise LabError("snap.damaged") from exc
    snaps = unpack(packed)
    if len(snaps) != 1:
        raise LabError("snap.damaged")
    return snaps[0]
