"""Benchmark: four optimizers x 500 real torch.optim steps on Rosenbrock (target < 150 ms), as the optimizer page runs them.

    .venv/bin/python -m bench.bench_optim
The machine is shared: the median of several repeats is reported next to the best one, and the CPU time the
process used (less sensitive to other processes than wall time, though not immune).
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from core.optim_paths import race  # noqa: E402

RUNS = [("sgd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3}), ("rmsprop", {"lr": 1e-2}), ("adam", {"lr": 1e-2})]
TARGET_MS = 150.0


def run(repeats: int = 7) -> dict[str, float]:
    """Milliseconds for the four 500-step paths the page computes (one race): best and median wall time, best CPU."""
    race("rosenbrock", RUNS, (-1.5, 2.0), 10)  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        paths = race("rosenbrock", RUNS, (-1.5, 2.0), 500)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert all(p.steps == 500 for p in paths)
    return {"4 optimizers x 500 steps, best wall (ms)": min(wall),
            "4 optimizers x 500 steps, median wall (ms)": statistics.median(wall),
            "4 optimizers x 500 steps, best CPU (ms)": min(cpu), "target (ms)": TARGET_MS,
            "torch threads": float(torch.get_num_threads())}


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value:.1f}")
