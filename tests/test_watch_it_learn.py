"""Watch it learn: a run's snapshots travel from train() through the job (in a thread or a training process), are
saved with its checkpoint and come back after a restart; the time left never goes up while it trains."""
import pickle

import pytest
import torch

from core.snapshots import Snapshot
from core.training import TrainConfig, train
from runtime.checkpoints import CheckpointStore
from runtime.jobs import JobManager
from runtime.workers import Records, WorkerPool
from support import wait_done, wait_for

SMALL = (512, 200)
CFG = TrainConfig(epochs=3, train_size=512, seed=8)


def moments(view) -> list[tuple[int, int]]:
    return [(s.epoch, s.batch) for s in view.snapshots]


def same_snapshots(a, b) -> bool:
    return len(a) == len(b) and all(torch.equal(x.filters, y.filters) and torch.equal(x.maps, y.maps)
                                    and torch.equal(x.probs, y.probs) for x, y in zip(a, b))


def test_the_job_keeps_them_and_a_restart_finds_them_on_disk(small, tmp_path):
    mgr = JobManager(small, 1, CheckpointStore(tmp_path))
    mgr.submit(CFG)
    view = wait_done(mgr, CFG)
    assert view.saved and moments(view) == [(0, 0), (1, 1), (1, 4), (1, 8), (2, 8), (3, 8)]
    here = [r for r in train(CFG, small) if isinstance(r, Snapshot)]
    assert same_snapshots(view.snapshots, here)  # the very numbers train() yields
    again = JobManager(small, 1, CheckpointStore(tmp_path)).view(CFG)  # a new server on the same folder
    assert again.from_disk and same_snapshots(again.snapshots, view.snapshots) and again.snapshot_problem is None


def test_time_left_never_goes_up_while_it_trains(small):
    mgr = JobManager(small, 1)
    cfg = CFG.but(epochs=6, seed=9)
    job = mgr.submit(cfg)
    seen = []

    def record() -> bool:
        view = job.view()
        if view.eta_seconds is not None:
            seen.append(view.eta_seconds)
        return not view.active

    wait_for(record, 120, "the run to finish")
    assert len(seen) > 3 and all(b <= a for a, b in zip(seen, seen[1:]))
    assert job.view().eta_seconds is None  # done


def test_snapshots_are_typed_worker_messages():
    snap = next(r for r in train(CFG.but(epochs=1, train_size=64), small_data()) if isinstance(r, Snapshot))
    message = Records(job_id=3, records=(snap,))
    back = pickle.loads(pickle.dumps(message)).records[0]
    assert isinstance(back, Snapshot) and torch.equal(back.maps, snap.maps) and back.high == snap.high


def small_data():
    from conftest import small_digits

    return small_digits(64, 50)


@pytest.mark.slow  # a training process
def test_they_travel_from_a_training_process(small):
    pool = WorkerPool(1, threads=1)
    try:
        mgr = JobManager(small, 1, None, pool)
        cfg = CFG.but(seed=10)
        mgr.submit(cfg)
        view = wait_done(mgr, cfg)
        assert view.status == "done" and moments(view) == [(0, 0), (1, 1), (1, 4), (1, 8), (2, 8), (3, 8)]
        assert same_snapshots(view.snapshots, [r for r in train(cfg, small) if isinstance(r, Snapshot)])
    finally:
        pool.shutdown()
