"""The job manager: identical configs share one run, runs finish in the background, cancel works, queue bounded;
any pool with JobManager's four methods can train its runs."""
import queue
import time

import pytest

from core.data import Digits, load_digits
from core.training import TrainConfig, train
from runtime.jobs import JobManager


@pytest.fixture(scope="module")
def small() -> Digits:
    d = load_digits()
    return Digits(d.train_images[:256], d.train_labels[:256], d.test_images[:100], d.test_labels[:100], d.source)


def wait(mgr, cfg, status=("done", "failed", "cancelled"), timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        view = mgr.get(cfg).view()
        if view.status in status:
            return view
        time.sleep(0.05)
    raise AssertionError(f"job still {view.status}")


def test_same_config_one_job(small):
    mgr = JobManager(small, max_parallel=1)
    cfg = TrainConfig(epochs=1, train_size=256)
    assert mgr.submit(cfg) is mgr.submit(TrainConfig(epochs=1, train_size=256))
    view = wait(mgr, cfg)
    assert view.status == "done" and view.done.reason == "finished" and view.progress == 1.0
    assert len(view.losses) == 4 and len(view.epochs) == 1


def test_queue_and_cancel(small):
    mgr = JobManager(small, max_parallel=1)
    first, second = TrainConfig(epochs=50, train_size=256), TrainConfig(epochs=1, train_size=256, seed=1)
    mgr.submit(first)
    mgr.submit(second)
    wait(mgr, first, ("running",))  # the one slot is taken
    assert mgr.view(second).status == "queued" and mgr.view(second).queue_position == 1
    cancelled = mgr.get(first)
    mgr.cancel(first)
    assert wait(mgr, second).status == "done"
    assert mgr.get(first) is cancelled and cancelled.status == "cancelled"  # watchers read "stopped"
    assert mgr.submit(first) is not cancelled  # the next submit starts afresh
    mgr.cancel(first)


@pytest.mark.slow  # a 200-epoch run to stop
def test_start_after_stop_starts_a_fresh_run_and_the_queue_moves_up(small):
    mgr = JobManager(small, max_parallel=1)
    long, a, b = (TrainConfig(epochs=200, train_size=256, seed=s) for s in (20, 21, 22))
    running = mgr.submit(long)
    queued_a, _ = mgr.submit(a), mgr.submit(b)
    wait(mgr, long, ("running",))
    assert (mgr.view(a).queue_position, mgr.view(b).queue_position) == (1, 2)
    mgr.cancel(a)  # a queued run: out of the queue at once
    assert mgr.view(a).status == "cancelled" and not mgr.view(a).active and mgr.view(b).queue_position == 1
    again = mgr.submit(a)  # Start right after Stop
    assert again is not queued_a and again.status == "queued" and mgr.view(a).queue_position == 2
    mgr.cancel(long)  # a running run: restartable at once, before its worker has even noticed
    assert mgr.view(long).status == "cancelled"
    restarted = mgr.submit(long)
    # at the back of the queue: behind a and b, or behind a alone if b took the slot the stopped run gave back
    assert restarted is not running and restarted.status == "queued" and mgr.view(long).queue_position == len(mgr.queue)
    assert wait(mgr, a).status == "done" and wait(mgr, b).status == "done"
    assert wait(mgr, long, ("running",)).status == "running"  # the new Start does train
    mgr.cancel(long)
    assert running.done.reason == "cancelled" and queued_a.done is None  # the old jobs never trained on


def test_identical_trainings_share_one_job(small):
    mgr = JobManager(small, max_parallel=1)
    adam = TrainConfig(epochs=1, train_size=256, seed=30)
    job = mgr.submit(adam)
    assert mgr.submit(adam.but(momentum=0.5)) is job  # Adam ignores momentum
    assert mgr.submit(adam.but(train_size=10_000)) is job  # only 256 digits exist: the same training
    assert mgr.key(adam.but(momentum=0.1, train_size=999)) == mgr.key(adam) == job.key
    assert job.requests == 3 and len(mgr.jobs) == 1
    sgd = adam.but(optimizer="sgd", lr=0.01)
    assert mgr.submit(sgd.but(momentum=0.5)) is not mgr.submit(sgd)  # SGD uses it
    assert wait(mgr, adam.but(momentum=0.2)).status == "done"


class InThreadPool:
    """The smallest runtime.jobs.Pool: one worker that trains in the calling thread (a Ray backend would train
    remotely behind the same four methods)."""

    def __init__(self) -> None:
        self.free: queue.Queue[str] = queue.Queue()
        self.free.put("the worker")
        self.closed = False
        self.fingerprints: list[str] = []

    def acquire(self) -> str | None:
        while not self.closed:
            try:
                return self.free.get(timeout=0.02)
            except queue.Empty:
                pass
        return None

    def run(self, worker, job_id, config, fingerprint, data, on_record, cancelled) -> None:
        self.fingerprints.append(fingerprint)
        for rec in train(config, data, should_stop=cancelled):
            on_record(rec)

    def release(self, worker: str) -> None:
        if not self.closed:
            self.free.put(worker)

    def shutdown(self) -> None:
        self.closed = True


def test_any_pool_with_the_four_methods_serves_the_manager(small):
    pool = InThreadPool()
    mgr = JobManager(small, 1, None, pool)
    short, long, waiting = (TrainConfig(epochs=e, train_size=256, seed=s) for e, s in ((1, 40), (200, 41), (1, 42)))
    mgr.submit(short)
    assert wait(mgr, short).status == "done" and pool.fingerprints == [mgr.fingerprint(small)]
    running = mgr.submit(long)
    wait(mgr, long, ("running",))
    queued = mgr.submit(waiting)
    assert mgr.view(waiting).queue_position == 1
    mgr.shutdown()  # the server stops: the running run is cancelled, the queued one gets no worker
    running.thread.join(30)
    queued.thread.join(30)
    assert not running.thread.is_alive() and not queued.thread.is_alive()
    assert (running.status, queued.status, queued.done) == ("cancelled", "cancelled", None)
