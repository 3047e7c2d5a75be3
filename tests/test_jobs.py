"""The job manager: identical configs share one run, runs finish in the background, cancel works, queue bounded."""
import time

import pytest

from core.data import Digits, load_digits
from core.training import TrainConfig
from lab.jobs import JobManager


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
    time.sleep(0.2)
    assert mgr.view(second).status == "queued" and mgr.view(second).queue_position == 1
    mgr.cancel(first)
    assert wait(mgr, second).status == "done"
    assert mgr.get(first) is None  # a cancelled run is forgotten: the next submit starts afresh
