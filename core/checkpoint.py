"""Checkpoints of finished runs: named after the configuration, written atomically, read with weights-only loading."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import torch

from core.data import Digits
from core.errors import LabError
from core.lenet import CLASSIC_SIZES, LeNet5, build_lenet
from core.snapshots import Snapshot, pack, unpack
from core.training import DoneRecord, EpochRecord, TrainConfig

FORMAT = 1  # bump when the stored layout changes: old files then count as foreign and are retrained
PREFIX, SUFFIX = "lenet-", ".pt"
TMP_PREFIX = ".tmp-"  # a save in progress (or a crash's leftover): never a checkpoint
REASONS = ("finished", "early_stop", "diverged")  # the endings worth keeping (a cancelled run is not)


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """A finished run as stored on disk: the model, its curves and how it ended."""

    config: TrainConfig
    model: LeNet5  # eval mode
    epochs: tuple[EpochRecord, ...]
    losses: tuple[float, ...]  # every batch loss
    batches_per_epoch: int
    reason: str  # one of REASONS
    epochs_run: int
    best_epoch: int
    diverged_step: int | None
    seconds: float  # how long the training took
    snapshots: tuple[Snapshot, ...] = ()  # the model while it learned (core.snapshots); none in files older than them
    snapshot_problem: LabError | None = None  # the file's snapshots were damaged: the run loads without them

    @property
    def done(self) -> DoneRecord:
        """The run's final record, as train() yielded it."""
        return DoneRecord(self.model, self.reason, self.epochs_run, self.best_epoch, self.diverged_step)


def data_fingerprint(data: Digits) -> str:
    """A short digest of the labels and sizes: a checkpoint is only valid for the digits it was trained on."""
    h = hashlib.sha256(f"{data.source}:{len(data.train_labels)}:{len(data.test_labels)}".encode())
    h.update(data.train_labels.to(torch.int64).numpy().tobytes())
    h.update(data.test_labels.to(torch.int64).numpy().tobytes())
    h.update(data.train_images[:64].numpy().tobytes())  # the first digits too, cheaply
    return h.hexdigest()[:16]


def key_fields(config: TrainConfig) -> dict:
    """The settings a run key hashes: every field, except layer sizes left at classic LeNet-5's values.

    Runs saved before the sizes could change had none of those fields, so leaving the classic values out keeps every
    existing default configuration's key (and its checkpoint file) valid.
    """
    return {k: v for k, v in asdict(config).items() if not (k in CLASSIC_SIZES and v == CLASSIC_SIZES[k])}


def run_key(config: TrainConfig, fingerprint: str) -> str:
    """A stable name for (configuration, data): 16 hex digits of a SHA-256 of both."""
    text = json.dumps({"format": FORMAT, "config": key_fields(config), "data": fingerprint}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_name(key: str) -> str:
    """The checkpoint file name for a run key."""
    return f"{PREFIX}{key}{SUFFIX}"


def key_of(path: Path) -> str | None:
    """The run key in a checkpoint file name, or None for other files."""
    name = Path(path).name
    if name.startswith(PREFIX) and name.endswith(SUFFIX) and len(name) == len(PREFIX) + 16 + len(SUFFIX):
        return name[len(PREFIX) : -len(SUFFIX)]
    return None


def to_payload(ckpt: Checkpoint, fingerprint: str) -> dict:
    """Plain containers and tensors only, so weights-only loading can read it back."""
    return {
        "format": FORMAT,
        "key": run_key(ckpt.config, fingerprint),
        "config": asdict(ckpt.config),
        "data": fingerprint,
        "state_dict": {k: v.detach().clone() for k, v in ckpt.model.state_dict().items()},
        "epochs": [asdict(e) for e in ckpt.epochs],
        "losses": torch.tensor(ckpt.losses, dtype=torch.float64),
        "batches_per_epoch": ckpt.batches_per_epoch,
        "reason": ckpt.reason,
        "epochs_run": ckpt.epochs_run,
        "best_epoch": ckpt.best_epoch,
        "diverged_step": ckpt.diverged_step,
        "seconds": ckpt.seconds,
        "snapshots": pack(ckpt.snapshots),  # a few small tensors (an empty dict when there are none)
    }


def save_checkpoint(folder: Path, ckpt: Checkpoint, fingerprint: str) -> Path:
    """Write atomically (temporary file in the same folder, then os.replace); OSError if the folder is not writable."""
    if ckpt.reason not in REASONS:
        raise LabError("checkpoint.not_finished", reason=ckpt.reason)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name(run_key(ckpt.config, fingerprint))
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(to_payload(ckpt, fingerprint), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is no secret
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _read(path: Path) -> object:
    """torch.load with weights_only=True: a pickle that tries to build any other object is refused, never run."""
    name = Path(path).name
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():  # weights-only refused to build an object or call a function
            raise LabError("checkpoint.unsafe", name=name) from exc
        raise LabError("checkpoint.damaged", name=name) from exc  # bytes that are no pickle it accepts
    except PermissionError as exc:
        raise LabError("checkpoint.unreadable", name=name) from exc
    except Exception as exc:  # noqa: BLE001 - truncated zip, not a torch file, absurd sizes (Overflow/MemoryError)...
        raise LabError("checkpoint.damaged", name=name) from exc  # whatever the bytes make torch raise: never a traceback


def _snapshots(packed: object) -> tuple[tuple[Snapshot, ...], LabError | None]:
    """A file's snapshots, or none and the reason when they are damaged (the run itself is still good)."""
    try:
        if not isinstance(packed, dict):
            raise LabError("snap.damaged")
        return unpack(packed), None
    except LabError as exc:
        return (), exc


def load_checkpoint(path: Path, fingerprint: str, config: TrainConfig | None = None) -> Checkpoint:
    """Read and check a checkpoint; LabError("checkpoint.<why>") for damaged, unsafe or foreign files."""
    try:
        return _check(path, fingerprint, config)
    except LabError:
        raise
    except Exception as exc:  # noqa: BLE001 - fields of absurd types or sizes: a damaged file, never a traceback
        raise LabError("checkpoint.damaged", name=Path(path).name) from exc


def _check(path: Path, fingerprint: str, config: TrainConfig | None) -> Checkpoint:
    """load_checkpoint's body: LabError for what it recognises, anything else for what it does not."""
    name = Path(path).name
    raw = _read(path)
    foreign = LabError("checkpoint.foreign", name=name)
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("data") != fingerprint:
        raise foreign
    try:
        given = {**CLASSIC_SIZES, **raw["config"]}  # files from before the layer sizes existed hold the classic ones
        stored = TrainConfig(**{f.name: given[f.name] for f in fields(TrainConfig)})
        model = build_lenet(stored.lenet, stored.seed)
        model.load_state_dict(raw["state_dict"], strict=True)  # wrong layers or shapes raise here
        epochs = tuple(EpochRecord(**e) for e in raw["epochs"])
        losses = tuple(float(v) for v in raw["losses"].tolist())
        diverged = raw["diverged_step"]
        ckpt = Checkpoint(config=stored, model=model.eval(), epochs=epochs, losses=losses,
                          batches_per_epoch=int(raw["batches_per_epoch"]), reason=str(raw["reason"]),
                          epochs_run=int(raw["epochs_run"]), best_epoch=int(raw["best_epoch"]),
                          diverged_step=None if diverged is None else int(diverged), seconds=float(raw["seconds"]))
        key = raw["key"]
        snapshots, snapshot_problem = _snapshots(raw.get("snapshots", {}))
        ckpt = replace(ckpt, snapshots=snapshots, snapshot_problem=snapshot_problem)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:  # LabError is a ValueError
        raise foreign from exc
    if (config is not None and stored != config) or key != run_key(stored, fingerprint) or key_of(path) not in (None, key):
        raise foreign  # someone else's run, or a file renamed to another configuration's name
    if ckpt.reason not in REASONS or not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise LabError("checkpoint.damaged", name=name)
    return ckpt
