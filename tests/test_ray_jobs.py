"""LENET_JOB_BACKEND=ray: two managers (two replicas) on one local Ray share one job table.

One Ray start for the module. Identical settings train once; both replicas see the progress, the queue and Stop;
a killed worker is reported in words and the run restarts; finished runs are saved as checkpoints; without the
table, saved runs still show and the page is told why nothing trains.
"""
import time

import psutil
import pytest
import torch

from core.data import load_digits
from core.errors import LabError
from core.snapshots import Snapshot
from core.training import BatchRecord, TrainConfig, train
from runtime.checkpoints import CheckpointStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def digits():
    return load_digits()  # what a training task loads by itself: the fingerprints must agree


@pytest.fixture(scope="module")
def replicas(digits, tmp_path_factory):
    ray = pytest.importorskip("ray")
    from runtime.ray_jobs import RayJobManager

    folder = tmp_path_factory.mktemp("checkpoints")
    a, b = (RayJobManager(digits, CheckpointStore(folder), "local", slots=2, threads=1, device="cpu")
            for _ in range(2))
    yield a, b, folder
    ray.kill(a.table())
    a.shutdown()


def wait(mgr, cfg, done=lambda v: not v.active, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        view = mgr.view(cfg)
        if view is not None and done(view):
            return view
        time.sleep(0.05)
    raise AssertionError(f"timed out: {mgr.view(cfg)}")


def training_tasks() -> list[psutil.Process]:
    """Ray workers executing a training task right now (Ray names the process after the task)."""
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "train_run" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.Error:  # ended meanwhile (a stopped run's worker is killed)
            pass
    return found


def started(mgr) -> int:
    return mgr.call("stats")["started"]


def test_identical_settings_from_two_replicas_train_once(replicas, digits):
    a, b, folder = replicas
    cfg = TrainConfig(epochs=2, train_size=256, seed=5)
    before = started(a)
    a.submit(cfg)
    b.submit(cfg.but(momentum=0.5))  # the same run once canonical (momentum only matters for SGD)
    seen = wait(b, cfg, lambda v: v.status == "running" or not v.active)
    assert seen.requests == 2
    view_a, view_b = wait(a, cfg), wait(b, cfg)
    assert started(a) - before == 1
    assert view_a.status == view_b.status == "done" and view_b.done.reason == "finished" and view_b.saved
    records = list(train(cfg, digits))
    here = [r.loss for r in records if isinstance(r, BatchRecord)]
    assert list(view_b.losses) == pytest.approx(here, rel=1e-5) and len(view_a.losses) == len(here)
    snaps = [r for r in records if isinstance(r, Snapshot)]  # watch it learn: the snapshots travel through the table
    for view in (view_a, view_b):
        assert [(s.epoch, s.batch) for s in view.snapshots] == [(s.epoch, s.batch) for s in snaps] and snaps
        torch.testing.assert_close(view.snapshots[-1].probs.float(), snaps[-1].probs.float(), atol=2e-3, rtol=0)
    assert not view_b.done.model.training and view_b.elapsed > 0
    assert [p.name for p in folder.glob("lenet-*.pt")] == [f"lenet-{a.key(cfg)}.pt"]
    assert [v.key for v in b.trained([b.fingerprint(digits)])] == [a.key(cfg)]


def test_queue_and_stop_are_the_same_on_every_replica(replicas):
    a, b, _ = replicas
    long = [TrainConfig(epochs=300, train_size=256, seed=s) for s in (10, 11)]
    short = TrainConfig(epochs=1, train_size=256, seed=12)
    for cfg in long + [short]:
        a.submit(cfg)
    queued = b.view(short)
    assert queued.status == "queued" and queued.queue_position == 1
    assert [v.key for v in b.active()] == [a.key(c) for c in long + [short]]
    wait(b, long[0], lambda v: v.steps_done > 0)
    for cfg in long:
        b.cancel(cfg)  # Stop on the other replica
    assert all(a.view(cfg).status == "cancelled" for cfg in long)
    assert wait(a, short).status == "done"
    assert b.active() == []
    assert not training_tasks()  # the cancelled tasks really ended
    again = a.submit(long[0].but(epochs=1))  # Start after Stop: a fresh run that trains
    assert wait(b, again.config).status == "done"


def test_a_run_stopped_while_its_worker_starts_leaves_no_broken_worker(replicas):
    a, b, _ = replicas
    for seed in (30, 31, 32):  # stopped as soon as its task runs, while a fresh worker may still import torch
        cfg = TrainConfig(epochs=300, train_size=256, seed=seed)
        a.submit(cfg)
        deadline = time.time() + 60
        while not training_tasks() and time.time() < deadline:
            time.sleep(0.01)
        b.cancel(cfg)
        assert wait(a, cfg).status == "cancelled"
    after = [TrainConfig(epochs=1, train_size=128, seed=s) for s in (33, 34)]
    for cfg in after:
        a.submit(cfg)
    assert [wait(b, cfg).status for cfg in after] == ["done", "done"]


def test_a_killed_worker_is_reported_and_the_run_restarts(replicas):
    a, b, _ = replicas
    cfg = TrainConfig(epochs=300, train_size=256, seed=20)
    a.submit(cfg)
    wait(b, cfg, lambda v: v.steps_done > 2)
    deadline = time.time() + 30
    while len(training_tasks()) != 1 and time.time() < deadline:  # workers of runs stopped earlier are ending
        time.sleep(0.05)
    [task] = training_tasks()
    task.kill()
    view = wait(b, cfg)
    assert view.status == "failed" and view.failure.code == "train.cluster_worker_died" and view.error
    a.submit(cfg)  # restartable
    assert wait(b, cfg, lambda v: v.status == "running").status == "running"
    b.cancel(cfg)
    assert wait(a, cfg).status == "cancelled"


def test_a_lost_table_is_made_again_and_saved_runs_still_show(replicas):
    import ray

    a, b, _ = replicas
    saved = TrainConfig(epochs=1, train_size=128, seed=7)
    b.submit(saved)
    assert wait(b, saved).saved
    table = b.table()
    ray.kill(table)
    # ray.kill is asynchronous: a call sent just after it may still be answered, so ask until the table is dead for sure
    deadline = time.monotonic() + 60
    while True:
        try:
            ray.get(table.stats.remote(), timeout=30)
        except ray.exceptions.RayActorError:
            break
        assert time.monotonic() < deadline, "the killed table still answers after a minute"
        time.sleep(0.1)
    assert b.view(saved).usable  # this replica keeps what it saw finish
    view = a.view(saved)  # the other one never saw it: the new table does not know it, the shared folder does
    assert view.usable and view.from_disk and a.warning is None
    assert view.snapshots and view.snapshots[0].epoch == 0  # the task saved them with the run: a replay after a restart
    fresh = TrainConfig(epochs=1, train_size=128, seed=99)
    b.submit(fresh)
    assert wait(a, fresh).status == "done"


def test_an_unreachable_cluster_is_said_in_words_and_pages_go_on(replicas, monkeypatch):
    a, _, _ = replicas
    saved, fresh = TrainConfig(epochs=1, train_size=128, seed=7), TrainConfig(epochs=1, train_size=128, seed=98)

    def unreachable(method, args):
        raise TimeoutError("no answer")

    monkeypatch.setattr(a, "_ask", unreachable)
    assert a.view(fresh) is None and a.active() == []
    assert a.warning.code == "train.cluster_unreachable"
    assert a.view(saved).usable  # saved runs still open
    with pytest.raises(LabError) as err:
        a.submit(fresh)
    assert err.value.code == "train.cluster_unreachable"
    a.cancel(fresh)  # no exception either
    monkeypatch.undo()
    assert a.view(fresh) is None and a.warning is None


def test_without_a_folder_runs_stay_in_memory(replicas, digits):
    from pathlib import Path

    from runtime.ray_jobs import RayJobManager

    memory_only = RayJobManager(digits, None, "local", slots=2, threads=1, device="cpu")
    before = set(Path.cwd().glob("lenet-*.pt"))
    cfg = TrainConfig(epochs=1, train_size=128, seed=97)
    memory_only.submit(cfg)
    view = wait(memory_only, cfg)
    assert view.usable and not view.saved and set(Path.cwd().glob("lenet-*.pt")) == before
