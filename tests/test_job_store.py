"""Jobs + checkpoints: a restart finds finished runs on disk, bad files are reported and retrained, a read-only
folder degrades to memory, other pages get only finished models."""
import time

import pytest
import torch

from core.checkpoint import data_fingerprint, file_name, run_key
from core.data import Digits, load_digits
from core.training import TrainConfig
from lab import cache, jobs
from lab.checkpoints import CheckpointStore
from lab.jobs import JobManager, run_label

CFG = TrainConfig(epochs=1, train_size=128, batch_size=64)


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


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_bad_checkpoint_is_reported_then_retrained_and_replaced(tmp_path, small, damage):
    fp = data_fingerprint(small)
    path = tmp_path / file_name(run_key(CFG, fp))
    JobManager(small, 1, CheckpointStore(tmp_path)).submit(CFG)
    time.sleep(0.01)
    mgr0 = JobManager(small, 1, CheckpointStore(tmp_path))
    wait(mgr0, CFG)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 3] if damage == "truncate" else b"\x00garbage" * 10)
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    assert mgr.view(CFG) is None  # not shown as trained
    problem = mgr.problem(CFG)
    assert problem is not None and problem.code == "checkpoint.damaged"
    job = mgr.submit(CFG)
    assert not job.from_disk and job.notice is problem  # the page says why it trains again
    view = wait(mgr, CFG)
    assert view.status == "done" and view.saved and view.notice is not None
    fresh = JobManager(small, 1, CheckpointStore(tmp_path)).view(CFG)
    assert fresh is not None and fresh.from_disk  # the file was replaced by a good one


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


def test_trained_models_for_other_pages(tmp_path, small, monkeypatch):
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    monkeypatch.setattr(jobs, "manager", lambda: mgr)
    monkeypatch.setattr(jobs, "fingerprints", lambda: [data_fingerprint(small)])
    assert cache.trained_models() == {}
    mgr.submit(CFG)
    wait(mgr, CFG)
    models = cache.trained_models()
    assert list(models) == [run_label(CFG)] and not models[run_label(CFG)].training


def test_failed_job_is_reported_and_can_be_started_again(small, monkeypatch):
    real_train = jobs.train

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")
        yield  # pragma: no cover

    monkeypatch.setattr(jobs, "train", broken)
    mgr = JobManager(small, 1)
    first = mgr.submit(CFG)
    view = wait(mgr, CFG)
    assert view.status == "failed" and "disk on fire" in view.error and not view.usable
    monkeypatch.setattr(jobs, "train", real_train)
    again = mgr.submit(CFG)
    assert again is not first and wait(mgr, CFG).status == "done"


def test_labels_are_short_and_distinct():
    assert run_label(TrainConfig()) == "relu · adam lr=0.001"
    assert run_label(TrainConfig(optimizer="sgd", lr=0.01, momentum=0.5, epochs=3)) == \
        "relu · sgd lr=0.01 · momentum=0.5 · epochs=3"
    assert run_label(TrainConfig(seed=2, dataset="mnist", momentum=0.5)) == "relu · adam lr=0.001 · seed=2 · dataset=mnist"
    assert run_label(TrainConfig(normalize=False, dropout=0.25)) == "relu · adam lr=0.001 · normalize=False · dropout=0.25"


@pytest.mark.parametrize("key", ["../../etc/passwd", "ABCDEF0123456789", "0123", "0123456789abcdef/", ""])
def test_keys_from_urls_never_become_paths(tmp_path, small, key):
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    assert mgr.find(key, [data_fingerprint(small)]) is None
    with pytest.raises(ValueError):
        mgr.store.path(key)
