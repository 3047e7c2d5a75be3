"""Checkpoints: round trip, atomic names, and every bad file (truncated, foreign, malicious) refused with a message."""
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from core.checkpoint import (Checkpoint, data_fingerprint, file_name, key_of, load_checkpoint, run_key,
                             save_checkpoint, to_payload)
from core.data import Digits
from core.errors import LabError
from core.lenet import LeNetConfig, build_lenet
from core.training import TrainConfig, run_to_end
from support import crashing_save

MARKER = Path("/tmp/lenet-malicious-marker")


@pytest.fixture(scope="module")
def ckpt(small) -> Checkpoint:
    cfg = TrainConfig(epochs=2, train_size=256, seed=3)
    epochs, done = run_to_end(cfg, small)
    return Checkpoint(config=cfg, model=done.model, epochs=tuple(epochs),
                      losses=(2.3, 2.1, 1.9, 1.7, 1.5, 1.4, 1.3, 1.2), batches_per_epoch=4, reason=done.reason,
                      epochs_run=done.epochs_run, best_epoch=done.best_epoch, diverged_step=done.diverged_step,
                      seconds=0.5)


def test_round_trip(tmp_path, small, ckpt):
    fp = data_fingerprint(small)
    path = save_checkpoint(tmp_path, ckpt, fp)
    assert path.name == file_name(run_key(ckpt.config, fp)) and key_of(path) == run_key(ckpt.config, fp)
    back = load_checkpoint(path, fp, ckpt.config)
    assert back.config == ckpt.config and back.epochs == ckpt.epochs and back.losses == ckpt.losses
    assert (back.reason, back.epochs_run, back.best_epoch, back.batches_per_epoch) == ("finished", 2, 2, 4)
    assert not back.model.training
    for (k, a), (_, b) in zip(ckpt.model.state_dict().items(), back.model.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(back.model(x), ckpt.model(x))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    assert load_checkpoint(path, fp).config == ckpt.config  # found by key alone (deep links, trained_models)


def test_name_depends_on_every_field_and_on_the_data(small):
    fp = data_fingerprint(small)
    base = TrainConfig()
    keys = {run_key(base.but(**change), fp) for change in
            [{}, {"lr": 2e-3}, {"seed": 1}, {"activation": "tanh"}, {"normalize": False}, {"dataset": "mnist"},
             {"mistake": "no_eval"}, {"patience": 2}, {"batch_size": 32}]}
    assert len(keys) == 9
    assert run_key(base, fp) == run_key(TrainConfig(), fp)  # stable
    other = Digits(small.train_images, small.train_labels.flip(0), small.test_images, small.test_labels, small.source)
    assert data_fingerprint(other) != fp


def _expect(path, fp, code, config=None):
    with pytest.raises(LabError) as info:
        load_checkpoint(path, fp, config)
    assert info.value.code == code and info.value.params["name"] == Path(path).name
    return info.value


def test_truncated_file_is_damaged(tmp_path, small, ckpt):
    fp = data_fingerprint(small)
    path = save_checkpoint(tmp_path, ckpt, fp)
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 30):
        path.write_bytes(data[:cut])
        _expect(path, fp, "checkpoint.damaged")


def test_not_a_torch_file_is_damaged(tmp_path, small):
    path = tmp_path / "lenet-0123456789abcdef.pt"
    path.write_text("hello, I am a text file")
    _expect(path, data_fingerprint(small), "checkpoint.damaged")


def test_foreign_architecture_is_refused(tmp_path, small, ckpt):
    fp = data_fingerprint(small)
    payload = to_payload(ckpt, fp)
    payload["state_dict"]["fc3.weight"] = torch.zeros(12, 84)  # another network's last layer
    path = tmp_path / file_name(payload["key"])
    torch.save(payload, path)
    _expect(path, fp, "checkpoint.foreign")
    payload = to_payload(ckpt, fp)
    payload["state_dict"] = {"layer.weight": torch.zeros(3)}
    torch.save(payload, path)
    _expect(path, fp, "checkpoint.foreign")
    torch.save({"state_dict": build_lenet(LeNetConfig("relu")).state_dict()}, path)  # a bare state dict: no metadata
    _expect(path, fp, "checkpoint.foreign")
    torch.save(build_lenet().state_dict(), path)
    _expect(path, fp, "checkpoint.foreign")


def test_other_config_other_data_renamed_or_other_version_is_foreign(tmp_path, small, ckpt):
    fp = data_fingerprint(small)
    path = save_checkpoint(tmp_path, ckpt, fp)
    _expect(path, fp, "checkpoint.foreign", ckpt.config.but(seed=4))
    _expect(path, "0" * 16, "checkpoint.foreign")
    renamed = tmp_path / file_name(run_key(ckpt.config.but(lr=0.5), fp))
    os.replace(path, renamed)  # a file copied under another configuration's name
    _expect(renamed, fp, "checkpoint.foreign")
    payload = to_payload(ckpt, fp)
    payload["format"] = 0
    torch.save(payload, path)
    _expect(path, fp, "checkpoint.foreign")
    payload = to_payload(ckpt, fp)
    payload["config"]["lr"] = -1.0  # invalid settings inside
    torch.save(payload, path)
    _expect(path, fp, "checkpoint.foreign")


def test_non_finite_weights_are_damaged(tmp_path, small, ckpt):
    fp = data_fingerprint(small)
    payload = to_payload(ckpt, fp)
    payload["state_dict"]["conv1.weight"][0, 0, 0, 0] = float("nan")
    path = tmp_path / file_name(payload["key"])
    torch.save(payload, path)
    _expect(path, fp, "checkpoint.damaged")


class Evil:
    """Unpickling this would write a marker file: weights-only loading must refuse it without running it."""

    def __reduce__(self):
        return (Path.write_text, (MARKER, "pwned"))


@pytest.mark.parametrize("how", ["torch_zip", "torch_zip_nested", "raw_pickle"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, small, ckpt, how):
    fp = data_fingerprint(small)
    MARKER.unlink(missing_ok=True)
    path = tmp_path / file_name(run_key(ckpt.config, fp))
    if how == "torch_zip":
        torch.save(Evil(), path)
    elif how == "torch_zip_nested":
        payload = to_payload(ckpt, fp)
        payload["epochs"] = Evil()
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps({"state_dict": Evil()}, protocol=2))  # torch's own legacy format
    assert not MARKER.exists()  # saving did not run it either
    _expect(path, fp, "checkpoint.unsafe")
    assert not MARKER.exists()


def test_zip_with_garbage_inside_is_damaged(tmp_path, small):
    path = tmp_path / "lenet-0123456789abcdef.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02garbage")
    _expect(path, data_fingerprint(small), "checkpoint.damaged")


def test_only_finished_runs_are_saved(tmp_path, small, ckpt):
    cancelled = Checkpoint(**{**ckpt.__dict__, "reason": "cancelled"})
    with pytest.raises(LabError) as info:
        save_checkpoint(tmp_path, cancelled, data_fingerprint(small))
    assert info.value.code == "checkpoint.not_finished"


def test_unwritable_folder_raises_oserror_and_leaves_nothing(tmp_path, small, ckpt):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        save_checkpoint(blocker / "cache", ckpt, data_fingerprint(small))


def test_crash_while_overwriting_leaves_the_previous_checkpoint_loadable(tmp_path, small, ckpt, monkeypatch):
    import core.checkpoint as module

    fp = data_fingerprint(small)
    path = save_checkpoint(tmp_path, ckpt, fp)
    before = path.read_bytes()
    monkeypatch.setattr(module.torch, "save", crashing_save(torch.save, len(before) // 2, OSError("disk full")))
    with pytest.raises(OSError):
        save_checkpoint(tmp_path, ckpt, fp)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]
    assert load_checkpoint(path, fp, ckpt.config).losses == ckpt.losses


@pytest.mark.parametrize("exc", [TypeError("bad"), OverflowError("huge"), MemoryError(), KeyError("x"),
                                 RuntimeError("odd"), AttributeError("y"), NotImplementedError("z")])
def test_anything_torch_load_raises_is_a_damaged_file(tmp_path, small, ckpt, monkeypatch, exc):
    fp = data_fingerprint(small)
    path = save_checkpoint(tmp_path, ckpt, fp)

    def broken(*args, **kwargs):
        raise exc

    monkeypatch.setattr(torch, "load", broken)
    _expect(path, fp, "checkpoint.damaged")


@pytest.mark.parametrize("field, value", [("seconds", 10**400), ("epochs_run", float("inf")),
                                          ("batches_per_epoch", float("nan")), ("losses", torch.zeros(2, 2, 2))])
def test_absurd_fields_are_refused_without_a_traceback(tmp_path, small, ckpt, field, value):
    fp = data_fingerprint(small)
    payload = to_payload(ckpt, fp)
    payload[field] = value
    path = tmp_path / file_name(payload["key"])
    torch.save(payload, path)
    with pytest.raises(LabError) as info:
        load_checkpoint(path, fp, ckpt.config)
    assert info.value.code in ("checkpoint.damaged", "checkpoint.foreign")


def test_newer_pickle_protocols_never_run_either(tmp_path, small):
    """Pickle protocol 4+ framing is refused by the weights-only reader before it sees any object: no code runs."""
    MARKER.unlink(missing_ok=True)
    path = tmp_path / "lenet-0123456789abcdef.pt"
    path.write_bytes(pickle.dumps({"state_dict": Evil()}, protocol=5))
    err = _expect(path, data_fingerprint(small), "checkpoint.damaged")
    assert err.code.startswith("checkpoint.") and not MARKER.exists()


# ---- snapshots (issue 17, "watch it learn"): kept with the run, optional in the file ---------------------------------

def trained_with_snapshots(data, **changes) -> Checkpoint:
    from core.snapshots import Snapshot
    from core.training import BatchRecord, DoneRecord, EpochRecord, train

    cfg = TrainConfig(**{"epochs": 2, "train_size": 256, "seed": 3, **changes})
    recs = list(train(cfg, data))
    done = recs[-1]
    assert isinstance(done, DoneRecord)
    return Checkpoint(config=cfg, model=done.model, epochs=tuple(r for r in recs if isinstance(r, EpochRecord)),
                      losses=tuple(r.loss for r in recs if isinstance(r, BatchRecord)), batches_per_epoch=4,
                      reason=done.reason, epochs_run=done.epochs_run, best_epoch=done.best_epoch,
                      diverged_step=done.diverged_step, seconds=0.5,
                      snapshots=tuple(r for r in recs if isinstance(r, Snapshot)))


def test_snapshots_come_back_from_the_file(tmp_path, small):
    ckpt = trained_with_snapshots(small)
    assert [(s.epoch, s.batch) for s in ckpt.snapshots] == [(0, 0), (1, 1), (1, 4), (2, 4)]
    fp = data_fingerprint(small)
    back = load_checkpoint(save_checkpoint(tmp_path, ckpt, fp), fp, ckpt.config)
    assert back.snapshot_problem is None and len(back.snapshots) == len(ckpt.snapshots)
    for a, b in zip(ckpt.snapshots, back.snapshots):
        assert (a.epoch, a.batch, a.low, a.high) == (b.epoch, b.batch, pytest.approx(b.low), pytest.approx(b.high))
        assert torch.equal(a.filters, b.filters) and torch.equal(a.maps, b.maps) and torch.equal(a.probs, b.probs)


def test_a_file_without_snapshots_loads_with_none(tmp_path, small, ckpt):
    """Files written before snapshots existed have no "snapshots" key at all."""
    fp = data_fingerprint(small)
    path = save_checkpoint(tmp_path, ckpt, fp)
    raw = torch.load(path, weights_only=True)
    assert raw["snapshots"] == {}
    del raw["snapshots"]
    torch.save(raw, path)
    back = load_checkpoint(path, fp, ckpt.config)
    assert back.snapshots == () and back.snapshot_problem is None and back.epochs == ckpt.epochs


@pytest.mark.parametrize("damage", [lambda s: s.pop("maps"), lambda s: s.update(probs=torch.zeros(2, 3)),
                                    lambda s: s.update(filters=s["filters"].float())])
def test_damaged_snapshots_leave_the_run_usable(tmp_path, small, damage):
    ckpt = trained_with_snapshots(small, seed=4)
    fp = data_fingerprint(small)
    path = save_checkpoint(tmp_path, ckpt, fp)
    raw = torch.load(path, weights_only=True)
    damage(raw["snapshots"])
    torch.save(raw, path)
    back = load_checkpoint(path, fp, ckpt.config)
    assert back.snapshots == () and back.snapshot_problem.code == "snap.damaged" and back.epochs == ckpt.epochs


@pytest.mark.slow  # ten epochs of the 4,000 digits
def test_snapshots_add_little_to_a_checkpoint(tmp_path, digits):
    """The default run (4,000 digits, batches of 64, 10 epochs): 14 snapshots, measured in the file."""
    import io

    from core.snapshots import pack

    ckpt = trained_with_snapshots(digits, epochs=10, train_size=4000)
    assert len(ckpt.snapshots) == 1 + 3 + 10  # before, after 1, 4 and 16 batches, after each epoch
    fp = data_fingerprint(digits)
    size = save_checkpoint(tmp_path, ckpt, fp).stat().st_size
    buf = io.BytesIO()
    torch.save(pack(ckpt.snapshots), buf)
    extra = len(buf.getvalue())
    print(f"checkpoint {size} bytes, of which snapshots {extra} bytes ({extra / (size - extra):.0%} growth)")
    assert extra < 80_000 and extra / (size - extra) < 0.35
