"""Benchmark (b): training in the app (through the JobManager and its training process) against a bare PyTorch
loop over the same digits with the same torch thread count.

    .venv/bin/python -m bench.bench_training_throughput
Both sides do what the course's loop does each epoch: shuffle, train on every batch, then one pass over the test
digits. The app side is timed from submit() to its finished record (queueing, records streamed back, checkpoint
written); the bare side from its first to its last line. The machine is shared with other engineers: numbers
measured there are pessimistic and noisy, which is why the runs alternate and the median ratio is reported.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from core.data import load_digits, to_model_input  # noqa: E402
from core.lenet import build_lenet  # noqa: E402
from core.training import TrainConfig  # noqa: E402
from runtime.checkpoints import CheckpointStore  # noqa: E402
from runtime.jobs import JobManager  # noqa: E402
from runtime.settings import SETTINGS  # noqa: E402
from runtime.workers import WorkerPool  # noqa: E402


def bare_loop(config: TrainConfig, data) -> float:
    """Seconds for the plain course loop: train every batch, then evaluate the test digits, each epoch."""
    x, y = to_model_input(data.train_images[: config.train_size]), data.train_labels[: config.train_size]
    x_test, y_test = to_model_input(data.test_images), data.test_labels
    model = build_lenet(config.lenet, config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    order = torch.Generator().manual_seed(config.seed)
    started = time.perf_counter()
    for _ in range(config.epochs):
        model.train()
        perm = torch.randperm(len(y), generator=order)
        for i in range(0, len(y), config.batch_size):
            idx = perm[i : i + config.batch_size]
            optimizer.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            (model(x_test).argmax(1) == y_test).float().mean().item()
    return time.perf_counter() - started


def app_run(mgr: JobManager, config: TrainConfig) -> tuple[float, float]:
    """Seconds from submit to a finished, saved run; and the mean training-only speed the run itself measured."""
    started = time.perf_counter()
    mgr.submit(config)
    while (view := mgr.view(config)).active:
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    assert view.status == "done", view.error
    return seconds, statistics.mean(e.samples_per_sec for e in view.epochs)


def run(epochs: int = 5, rounds: int = 3, threads: int = SETTINGS.train_threads) -> dict[str, object]:
    """Throughput of both, in training digits per second, and their ratio (app / bare; the target is >= 0.8)."""
    torch.set_num_threads(threads)
    data = load_digits()
    base = TrainConfig(activation="relu", optimizer="adam", lr=1e-3, epochs=epochs)
    digits = base.train_size * epochs
    with tempfile.TemporaryDirectory() as folder:
        pool = WorkerPool(1, threads)  # one run at a time: the comparison is per run, not the whole server
        mgr = JobManager(data, 1, CheckpointStore(folder), pool)
        try:
            app_run(mgr, base.but(epochs=1, seed=99))  # start-up of the training process is not throughput
            bare_loop(base.but(epochs=1), data)  # warm up this process the same way
            app, bare, app_train_only = [], [], []
            for r in range(rounds):  # alternate, so both see the same background load
                seconds, speed = app_run(mgr, base.but(seed=r))
                app.append(digits / seconds)
                app_train_only.append(speed)
                bare.append(digits / bare_loop(base.but(seed=r), data))
        finally:
            pool.shutdown()
    ratio = statistics.median(a / b for a, b in zip(app, bare))
    return {"threads": threads, "epochs": epochs, "train_digits": base.train_size,
            "app_digits_per_s_median": statistics.median(app), "bare_digits_per_s_median": statistics.median(bare),
            "app_train_only_digits_per_s": statistics.median(app_train_only),
            "ratio_app_over_bare": ratio, "meets_0.8": ratio >= 0.8}


if __name__ == "__main__":
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else SETTINGS.train_threads
    for key, value in run(threads=threads).items():
        print(f"{key:32s} {value:.3f}" if isinstance(value, float) else f"{key:32s} {value}")
