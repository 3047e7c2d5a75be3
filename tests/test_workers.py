"""Training processes: same numbers as training in this process, cancel, a killed process is reported and replaced."""
import dataclasses
import pickle
import time

import pytest

from core.data import Digits, load_digits
from core.training import BatchRecord, TrainConfig, train
from runtime.jobs import JobManager
from runtime.workers import Failed, Finished, Records, WorkerPool, rebuilt


@pytest.fixture(scope="module")
def small() -> Digits:
    d = load_digits()
    return Digits(d.train_images[:256], d.train_labels[:256], d.test_images[:100], d.test_labels[:100], d.source)


@pytest.fixture(scope="module")
def pool():
    workers = WorkerPool(2, threads=1)
    yield workers
    workers.shutdown()


def wait(mgr, cfg, status=("done", "failed", "cancelled"), timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        view = mgr.view(cfg)
        if view is not None and view.status in status:
            return view
        time.sleep(0.02)
    raise AssertionError(f"job not {status} in {timeout} s")


def until(condition, timeout=60):
    """Poll condition() until it is true; fail after timeout seconds."""
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"still false after {timeout} s")
        time.sleep(0.02)


@pytest.mark.slow  # training processes
def test_process_run_matches_in_process_run(small, pool):
    cfg = TrainConfig(epochs=2, train_size=256, seed=5)
    mgr = JobManager(small, 2, None, pool)
    mgr.submit(cfg)
    view = wait(mgr, cfg)
    assert view.status == "done" and view.done.reason == "finished" and len(view.epochs) == 2
    here = [r.loss for r in train(cfg, small) if isinstance(r, BatchRecord)]
    assert list(view.losses) == pytest.approx(here, rel=1e-5)
    assert not view.done.model.training and view.elapsed > 0
    assert all(len(w.known) <= 1 for w in pool.workers)  # the digits travel once per process


@pytest.mark.slow  # training processes
def test_queue_and_cancel_through_processes(small, pool):
    mgr = JobManager(small, 2, None, pool)
    long = [TrainConfig(epochs=300, train_size=256, seed=s) for s in (10, 11)]
    short = TrainConfig(epochs=1, train_size=256, seed=12)
    for cfg in long:  # one after the other: each takes a training process before the next is submitted
        mgr.submit(cfg)
        wait(mgr, cfg, ("running",))
    mgr.submit(short)
    assert mgr.view(short).status == "queued" and mgr.view(short).queue_position == 1
    for cfg in long:
        mgr.cancel(cfg)
    assert all(mgr.view(cfg).status == "cancelled" for cfg in long)  # at once, before the processes notice
    assert mgr.view(short).status in ("queued", "running")
    assert wait(mgr, short).status == "done"
    fresh = [mgr.submit(cfg) for cfg in long]  # Start after Stop: fresh runs that do train
    assert all(job.status in ("queued", "running") for job in fresh)
    for job in fresh:
        mgr.cancel(job.config)
        job.thread.join(30)


@pytest.mark.slow  # training processes
def test_killed_process_fails_the_run_and_is_replaced(small, pool):
    mgr = JobManager(small, 2, None, pool)
    cfg = TrainConfig(epochs=300, train_size=256, seed=20)
    job = mgr.submit(cfg)
    until(lambda: job.view().steps_done >= 2)  # training, not just started
    busy = [w for w in pool.workers if w.process.is_alive() and w not in list(pool.free.queue)]
    assert len(busy) == 1
    busy[0].process.kill()
    view = wait(mgr, cfg)
    assert view.status == "failed" and "training process ended" in view.error  # raw text: the server log only
    assert view.failure.code == "train.worker_died"
    job.thread.join(30)  # the run's thread gives the dead process back: the pool replaces it before the thread ends
    assert len(pool.workers) == 2 and all(w.process.is_alive() for w in pool.workers)
    again = mgr.submit(cfg.but(epochs=1))
    assert wait(mgr, again.config).status == "done"


@pytest.mark.slow  # training processes
def test_an_error_inside_the_process_comes_back_as_a_translation_code(small, pool):
    mgr = JobManager(Digits(small.train_images[:, :5], small.train_labels, small.test_images, small.test_labels,
                            "broken"), 2, None, pool)  # 5x28 images: LeNet cannot take them
    cfg = TrainConfig(epochs=1, train_size=64, seed=21)
    mgr.submit(cfg)
    view = wait(mgr, cfg)
    assert view.status == "failed" and view.failure.code == "train.failed" and view.error
    assert all(isinstance(v, (int, float, str)) for v in view.failure.params.values())


def test_messages_are_frozen_dataclasses_that_survive_the_queue():
    import torch

    failed = Failed(job_id=7, code="train.bad_lr", params={"lr": -1.0}, detail="LabError: train.bad_lr")
    records = Records(job_id=7, records=(BatchRecord(epoch=1, batch=1, batches=4, step=1, loss=2.3),))
    finished = Finished(job_id=7, reason="finished", epochs_run=1, best_epoch=1, diverged_step=None,
                        state={"w": torch.ones(2)})
    for message in (failed, records):
        assert pickle.loads(pickle.dumps(message)) == message
    assert pickle.loads(pickle.dumps(finished)).state["w"].tolist() == [1.0, 1.0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        failed.code = "train.failed"
    err = rebuilt(failed.code, failed.params, failed.detail)  # the code is a variable: the registry checks it
    assert (err.code, err.params, str(err)) == ("train.bad_lr", {"lr": -1.0}, "LabError: train.bad_lr")


def test_training_processes_run_at_a_lower_priority_from_their_first_moment(pool):
    """The parent lowers a worker's priority as soon as it starts (its torch import must not slow the first page),
    to the same absolute niceness the worker sets itself: never lowered twice."""
    import os

    import psutil

    from runtime.workers import NICENESS

    mine = os.getpriority(os.PRIO_PROCESS, 0)
    for worker in pool.workers:
        assert psutil.Process(worker.process.pid).nice() == max(mine, NICENESS)


def test_a_lazy_pool_starts_its_processes_with_the_runs_that_need_them():
    """LENET_EAGER_WORKERS=0 (the tests): no process until a run asks for one, never more than the pool's size."""
    import threading

    lazy = WorkerPool(2, threads=1, eager=False)
    try:
        assert lazy.workers == []
        first, second = lazy.acquire(), lazy.acquire()
        assert first is not second and len(lazy.workers) == 2
        got = []
        waiter = threading.Thread(target=lambda: got.append(lazy.acquire()), daemon=True)
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive() and len(lazy.workers) == 2  # a third run waits for one of the two
        lazy.release(first)
        waiter.join(10)
        assert got == [first]
    finally:
        lazy.shutdown()
