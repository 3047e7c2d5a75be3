"""LENET_DEVICE: "auto" is CUDA when torch sees a GPU, else the CPU; the CPU path trains exactly as before."""
import hashlib

import pytest
import torch

from core.data import Digits, load_digits
from core.device import resolve_device
from core.errors import LabError
from core.training import BatchRecord, DoneRecord, EpochRecord, TrainConfig, train

# Digests of two runs (losses, epoch metrics, final weights) made by train() before it took a device, on this
# project's CI machines (torch 2.14.1, one thread). Another CPU family may round differently: checked only there.
BEFORE = {"AVX512": ("e71f0ed9d256504016d50bd8a4833c6a", "72e51c3853f71ab7c5ba6e6617ff7a34")}
CONFIGS = (TrainConfig(epochs=2, train_size=256, seed=3),
           TrainConfig(activation="tanh", optimizer="sgd", lr=0.01, epochs=2, train_size=256, seed=4, dropout=0.2,
                       patience=1))


@pytest.fixture(scope="module")
def small() -> Digits:
    d = load_digits()
    return Digits(d.train_images[:256], d.train_labels[:256], d.test_images[:100], d.test_labels[:100], d.source)


def digest(records) -> str:
    """Every number a run produces except its timings, hashed bit for bit."""
    h = hashlib.sha256()
    for r in records:
        if isinstance(r, BatchRecord):
            h.update(repr(r.loss).encode())
        elif isinstance(r, EpochRecord):
            h.update(repr((r.train_loss, r.train_acc, r.test_loss, r.test_acc)).encode())
        elif isinstance(r, DoneRecord):  # snapshots (core.snapshots) are read-only looks at the model: not hashed
            for v in r.model.state_dict().values():
                h.update(v.numpy().tobytes())
            h.update(repr((r.reason, r.epochs_run, r.best_epoch)).encode())
    return h.hexdigest()[:32]


@pytest.mark.parametrize("name, gpus, expected", [
    ("auto", 0, "cpu"), ("auto", 2, "cuda"), ("", 0, "cpu"), ("CPU ", 2, "cpu"), ("cuda", 1, "cuda"),
    ("cuda:1", 2, "cuda:1")])
def test_resolution(name, gpus, expected):
    assert resolve_device(name, lambda: gpus) == torch.device(expected)


@pytest.mark.parametrize("name, gpus, code", [("gpu", 1, "train.bad_device"), ("cuda:x", 1, "train.bad_device"),
                                              ("cuda", 0, "train.no_cuda"), ("cuda:2", 2, "train.no_cuda")])
def test_bad_or_missing_devices_are_lab_errors(name, gpus, code):
    with pytest.raises(LabError) as err:
        resolve_device(name, lambda: gpus)
    assert err.value.code == code


def test_auto_follows_torch():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("index", [0, 1])
def test_cpu_runs_are_bit_identical_to_before(small, index):
    torch.set_num_threads(1)
    default = digest(train(CONFIGS[index], small))
    assert digest(train(CONFIGS[index], small, device="cpu")) == default
    if not torch.cuda.is_available():
        assert digest(train(CONFIGS[index], small, device=resolve_device("auto"))) == default
    known = BEFORE.get(torch.backends.cpu.get_cpu_capability())
    if known is None:
        pytest.skip("no digest recorded for this CPU family")
    assert default == known[index]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_a_gpu_run_learns_and_hands_back_a_cpu_model(small):
    records = list(train(CONFIGS[0], small, device="cuda"))
    done, epochs = records[-1], [r for r in records if isinstance(r, EpochRecord)]
    assert isinstance(done, DoneRecord) and next(done.model.parameters()).device.type == "cpu"
    cpu = [r for r in train(CONFIGS[0], small) if isinstance(r, EpochRecord)]
    assert epochs[-1].test_acc == pytest.approx(cpu[-1].test_acc, abs=0.05)


def test_the_training_process_reports_a_missing_gpu_in_words(small):
    from runtime.jobs import JobManager
    from runtime.workers import WorkerPool

    pool = WorkerPool(1, threads=1, device="cuda:7")
    try:
        mgr = JobManager(small, 1, None, pool)
        cfg = TrainConfig(epochs=1, train_size=64, seed=1)
        job = mgr.submit(cfg)
        job.thread.join(60)
        view = mgr.view(cfg)
        assert view.status == "failed" and view.failure.code == "train.no_cuda"
        assert view.failure.params == {"name": "cuda:7", "count": torch.cuda.device_count()}
    finally:
        pool.shutdown()
