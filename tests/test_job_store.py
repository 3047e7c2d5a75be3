"""Jobs + checkpoints: a restart finds finished runs on disk, bad files are reported and retrained, a read-only
folder or a full disk degrades to memory (and saving resumes when it can), other pages get only finished models."""
import errno
import os
import pickle
import time
from pathlib import Path

import pytest
import torch

from core.checkpoint import data_fingerprint, file_name, run_key
from core.data import Digits, load_digits
from core.errors import LabError
from core.training import TrainConfig
from runtime import jobs
from runtime.checkpoints import CheckpointStore
from runtime.jobs import JobManager, labelled_models
from support import crashing_save

CFG = TrainConfig(epochs=1, train_size=128, batch_size=64)
MARKER = Path("/tmp/lenet-job-store-malicious-marker")


class Evil:
    """Unpickling this would write a marker file: the job store must refuse it without running it."""

    def __reduce__(self):
        return (Path.write_text, (MARKER, "pwned"))


@pytest.fixture(scope="module")
def small() -> Digits:
    d = load_digits()
    return Digits(d.train_images[:128], d.train_labels[:128], d.test_images[:64], d.test_labels[:64], d.source)


def wait(mgr, cfg, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        view = mgr.view(cfg)
        if view is not None and view.status in ("done", "failed", "cancelled"):
            return view
        time.sleep(0.02)
    raise AssertionError("job did not finish")


def test_restart_finds_the_run_on_disk_without_training(tmp_path, small):
    first = JobManager(small, 1, CheckpointStore(tmp_path))
    first.submit(CFG)
    done = wait(first, CFG)
    assert done.saved and not done.from_disk
    assert (tmp_path / file_name(done.key)).is_file()
    restarted = JobManager(small, 1, CheckpointStore(tmp_path))  # a new server, same folder
    view = restarted.view(CFG)  # before anyone presses Start
    assert view is not None and view.status == "done" and view.from_disk
    assert view.epochs == done.epochs and view.losses == done.losses and view.done.reason == "finished"
    assert view.elapsed == pytest.approx(done.elapsed, abs=0.5)
    job = restarted.submit(CFG)
    assert job.status == "done" and job.from_disk and restarted.queue == []  # nothing trained
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(job.done.model(x), first.get(CFG).done.model(x))


@pytest.mark.parametrize("damage, code", [("truncate", "checkpoint.damaged"), ("garbage", "checkpoint.damaged"),
                                          ("malicious", "checkpoint.unsafe"),
                                          ("malicious_legacy", "checkpoint.unsafe")])
def test_bad_checkpoint_is_reported_then_retrained_and_replaced(tmp_path, small, damage, code):
    fp = data_fingerprint(small)
    path = tmp_path / file_name(run_key(CFG, fp))
    first = JobManager(small, 1, CheckpointStore(tmp_path))
    first.submit(CFG)
    assert wait(first, CFG).saved
    good = path.read_bytes()
    MARKER.unlink(missing_ok=True)
    if damage == "malicious":
        torch.save({"format": 1, "state_dict": Evil()}, path)  # a zip checkpoint whose pickle would run code
    elif damage == "malicious_legacy":
        path.write_bytes(pickle.dumps({"state_dict": Evil()}, protocol=2))
    else:
        path.write_bytes(good[: len(good) // 3] if damage == "truncate" else b"\x00garbage" * 10)
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    assert mgr.view(CFG) is None  # not shown as trained
    problem = mgr.problem(CFG)
    assert problem is not None and problem.code == code
    assert not MARKER.exists()  # refused, never run
    job = mgr.submit(CFG)
    assert not job.from_disk and job.notice is problem  # the page says why it trains again
    view = wait(mgr, CFG)
    assert view.status == "done" and view.saved and view.notice is not None
    fresh = JobManager(small, 1, CheckpointStore(tmp_path)).view(CFG)
    assert fresh is not None and fresh.from_disk  # the file was replaced by a good one
    assert not MARKER.exists()


def test_a_checkpoint_of_the_second_dataset_is_found_by_key(tmp_path, small):
    """Deep links try every dataset's fingerprint: a file foreign to the first must not spoil it for the second."""
    d = load_digits()
    mnist = Digits(d.train_images[1000:1128], d.train_labels[1000:1128], d.test_images[64:128], d.test_labels[64:128],
                   "mnist")
    data = lambda name: mnist if name == "mnist" else small  # noqa: E731
    cfg = CFG.but(dataset="mnist")
    first = JobManager(data, 1, CheckpointStore(tmp_path))
    first.submit(cfg)
    assert wait(first, cfg).saved
    fps = [data_fingerprint(small), data_fingerprint(mnist)]  # the embedded digits come first
    mgr = JobManager(data, 1, CheckpointStore(tmp_path))  # after a restart
    found = mgr.find(mgr.key(cfg), fps)
    assert found is not None and found.config == cfg and found.from_disk
    restarted = JobManager(data, 1, CheckpointStore(tmp_path))
    assert restarted.find(restarted.key(cfg), fps) is not None
    restarted.jobs.clear()  # memory dropped it (MAX_FINISHED_IN_MEMORY): the file is read again
    view = restarted.view(cfg)
    assert view is not None and view.from_disk and restarted.problem(cfg) is None
    job = restarted.submit(cfg)
    assert job.from_disk and restarted.queue == []  # not retrained


@pytest.mark.parametrize("error", [pickle.PicklingError("cannot pickle"), TypeError("odd tensor"),
                                   RuntimeError("serialisation failed"), LabError("checkpoint.not_finished", reason="cancelled")])
def test_a_run_that_cannot_be_saved_stays_in_memory_with_a_warning(tmp_path, small, monkeypatch, error):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr("runtime.checkpoints.save_checkpoint", broken)
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    job = mgr.submit(CFG)
    view = wait(mgr, CFG)
    assert view.status == "done" and view.usable and not view.saved and view.failure is None
    assert view.save_problem is not None and view.save_problem.code.startswith("checkpoint.")
    assert mgr.submit(CFG) is job  # shared from memory, not retrained
    assert mgr.trained([data_fingerprint(small)])[0].key == view.key  # other pages can use it


def test_anything_raised_while_saving_keeps_the_model(tmp_path, small, monkeypatch):
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    monkeypatch.setattr(mgr.store, "save", lambda *a: 1 / 0)
    mgr.submit(CFG)
    view = wait(mgr, CFG)
    assert view.status == "done" and view.usable and not view.saved
    assert view.save_problem.code == "checkpoint.save_failed" and "ZeroDivisionError" not in str(view.failure)


def test_crash_in_the_middle_of_a_save_keeps_the_previous_checkpoint(tmp_path, small, monkeypatch):
    import core.checkpoint as ckpt_module

    first = JobManager(small, 1, CheckpointStore(tmp_path))
    first.submit(CFG)
    good = wait(first, CFG)
    path = tmp_path / file_name(good.key)
    before = path.read_bytes()
    monkeypatch.setattr(ckpt_module.torch, "save", crashing_save(torch.save, len(before) // 2, RuntimeError("power cut")))
    again = JobManager(small, 1, CheckpointStore(tmp_path))
    again.jobs.clear()
    again.submit(CFG.but(seed=9))  # another run crashes while saving
    assert not wait(again, CFG.but(seed=9)).saved
    fp = data_fingerprint(small)
    stored = again.store.load(CFG, fp)
    with pytest.raises(LabError) as info:  # the same run saved again (a retrain): the crash hits its own file
        again.store.save(stored, fp)
    assert info.value.code == "checkpoint.save_failed" and again.store.writable
    assert path.read_bytes() == before and again.store.load(CFG, fp).losses == good.losses  # untouched, loadable
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no half-written temporary file left
    monkeypatch.undo()  # torch.save works again
    restarted = JobManager(small, 1, CheckpointStore(tmp_path))
    assert restarted.view(CFG).from_disk and restarted.view(CFG.but(seed=9)) is None


def test_old_temporary_files_of_a_crash_are_removed_on_start(tmp_path):
    old, young, other = tmp_path / ".tmp-abc123.pt", tmp_path / ".tmp-def456.pt", tmp_path / "notes.txt"
    for p in (old, young, other):
        p.write_bytes(b"half a checkpoint")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    store = CheckpointStore(tmp_path)  # the server starts
    assert not old.exists() and young.exists() and other.exists()  # a young one may be a save in progress
    assert store.clean_temporary(older_than=0) == 1 and not young.exists()
    assert CheckpointStore(tmp_path / "missing").clean_temporary() == 0


def _no_space() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


def _wrapped_no_space() -> RuntimeError:
    """What torch.save raises when it writes to a path on a full disk: its own error, the OSError inside."""
    try:
        raise _no_space()
    except OSError as full:
        try:
            raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed") from full
        except RuntimeError as exc:
            return exc


@pytest.mark.parametrize("error", [_no_space, _wrapped_no_space])
def test_a_full_disk_is_reported_as_full_and_saving_resumes_once_space_is_freed(tmp_path, small, monkeypatch, error):
    import core.checkpoint as ckpt_module

    monkeypatch.setattr(ckpt_module.torch, "save", crashing_save(torch.save, 100, error()))  # the disk fills up
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    mgr.submit(CFG)
    view = wait(mgr, CFG)
    assert view.status == "done" and view.usable and not view.saved and view.save_problem is None
    assert mgr.warning is not None and mgr.warning.code == "checkpoint.disk_full"  # not "read-only"
    assert mgr.warning.params == {"folder": str(tmp_path)} and list(tmp_path.iterdir()) == []  # no half file
    monkeypatch.undo()  # space is freed
    second = CFG.but(seed=1)
    mgr.submit(second)
    assert wait(mgr, second).saved  # the next finished run is saved: no restart needed
    assert mgr.warning is None and (tmp_path / file_name(mgr.key(second))).is_file()
    assert mgr.submit(CFG) is mgr.get(CFG)  # the run that could not be saved is still shared from memory


def test_read_only_folder_keeps_working_in_memory(tmp_path, small):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    mgr = JobManager(small, 1, CheckpointStore(blocker / "cache"))
    assert mgr.warning is None
    mgr.submit(CFG)
    view = wait(mgr, CFG)
    assert view.status == "done" and not view.saved and view.usable
    assert mgr.warning is not None and mgr.warning.code == "checkpoint.readonly"
    assert mgr.warning.params["folder"] == str(blocker / "cache")
    assert mgr.submit(CFG) is mgr.get(CFG)  # still shared from memory


def test_trained_lists_only_finished_models_newest_first(tmp_path, small):
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    a, b = CFG, CFG.but(seed=1)
    long = CFG.but(epochs=200, seed=2)
    mgr.submit(a)
    wait(mgr, a)
    mgr.submit(b)
    wait(mgr, b)
    mgr.submit(long)
    fps = [data_fingerprint(small)]
    views = mgr.trained(fps)
    assert [v.config for v in views] == [b, a]  # the running one is never handed out
    assert all(not v.done.model.training for v in views)
    diverged = CFG.but(optimizer="sgd", lr=1e6, seed=5)
    mgr.cancel(long)
    mgr.submit(diverged)
    assert wait(mgr, diverged).done.reason == "diverged"
    assert diverged not in [v.config for v in mgr.trained(fps)]
    restarted = JobManager(small, 1, CheckpointStore(tmp_path))
    assert {v.config for v in restarted.trained(fps)} == {a, b}  # from disk after a restart
    assert restarted.find(mgr.key(a), fps).config == a


def test_trained_models_for_other_pages(tmp_path, small):
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    fps = [data_fingerprint(small)]
    assert labelled_models(mgr.trained(fps)) == {}
    mgr.submit(CFG)
    mgr.submit(CFG.but(seed=3))
    wait(mgr, CFG)
    wait(mgr, CFG.but(seed=3))
    models = labelled_models(mgr.trained(fps))
    assert list(models) == [CFG.but(seed=3).run_label, CFG.run_label]  # newest first
    assert not any(m.training for m in models.values())
    twice = labelled_models([mgr.view(CFG), mgr.view(CFG)])  # the same label twice: told apart by the key
    assert list(twice) == [CFG.run_label, f"{CFG.run_label} #{mgr.key(CFG)[:4]}"]


def test_failed_job_is_reported_and_can_be_started_again(small, monkeypatch):
    real_train = jobs.train

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")
        yield  # pragma: no cover

    monkeypatch.setattr(jobs, "train", broken)
    mgr = JobManager(small, 1)
    first = mgr.submit(CFG)
    view = wait(mgr, CFG)
    assert view.status == "failed" and not view.usable
    assert view.failure.code == "train.failed" and "disk on fire" not in str(view.failure.params)
    assert "disk on fire" in view.error  # the raw text, for the server log only
    monkeypatch.setattr(jobs, "train", real_train)
    again = mgr.submit(CFG)
    assert again is not first and wait(mgr, CFG).status == "done"


@pytest.mark.parametrize("exc, code", [(MemoryError(), "train.out_of_memory"),
                                       (RuntimeError("DefaultCPUAllocator: can't allocate memory"),
                                        "train.out_of_memory"),
                                       (LabError("train.no_mnist"), "train.no_mnist"), (KeyError("x"), "train.failed")])
def test_failures_carry_a_translation_code(small, monkeypatch, exc, code):
    def broken(*args, **kwargs):
        raise exc
        yield  # pragma: no cover

    monkeypatch.setattr(jobs, "train", broken)
    mgr = JobManager(small, 1)
    mgr.submit(CFG)
    view = wait(mgr, CFG)
    assert view.status == "failed" and view.failure.code == code


@pytest.mark.parametrize("key", ["../../etc/passwd", "ABCDEF0123456789", "0123", "0123456789abcdef/", ""])
def test_keys_from_urls_never_become_paths(tmp_path, small, key):
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    assert mgr.find(key, [data_fingerprint(small)]) is None
    with pytest.raises(ValueError):
        mgr.store.path(key)
