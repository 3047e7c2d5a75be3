"""Benchmark: conv_trace on LeNet's first-layer size and the convolution / pooling pages' rerun after a slider move.

    .venv/bin/python -m bench.bench_conv
Targets (issue 7): conv_trace 28x28 with a 5x5 kernel under 20 ms; a page rerun after a slider change under 300 ms.
Best and median of several repeats, in milliseconds. The machine is shared with other engineers: numbers are noisy.
The rerun is measured in AppTest (the script itself: core work, figures and widgets, no browser or network).
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import torch  # noqa: E402

from core.conv import conv_trace  # noqa: E402
from core.pooling import pool_trace  # noqa: E402


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(best, median) milliseconds of fn over repeats, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def rerun_times(page: str, params: dict[str, object], key: str, values: list[int]) -> list[float]:
    """Milliseconds of each rerun of `page` after setting slider `key` to each value in turn (AppTest)."""
    from conftest import run_app

    at = run_app("en", page=page, params=params)
    times = []
    for value in values:
        started = time.perf_counter()
        at.slider(key=key).set_value(value).run()
        times.append((time.perf_counter() - started) * 1000)
        assert not at.exception, at.exception
    return times


def run(repeats: int = 15) -> dict[str, float]:
    """conv_trace and pool_trace timings, and page rerun times after slider changes."""
    torch.set_num_threads(1)  # as each server session effectively gets on this shared machine
    gen = torch.Generator().manual_seed(0)
    image, kernel = torch.rand(28, 28, generator=gen), torch.randn(5, 5, generator=gen)
    rgb, kernel3 = torch.rand(3, 28, 28, generator=gen), torch.randn(3, 5, 5, generator=gen)
    out: dict[str, float] = {}
    cases: dict[str, Callable[[], object]] = {
        "conv_trace 28x28, 5x5 kernel (784 steps)": lambda: conv_trace(image, kernel),
        "conv_trace 28x28, 5x5 kernel, padding 2 (LeNet conv1)": lambda: conv_trace(image, kernel, padding=2),
        "conv_trace 3x28x28, 3x5x5 kernel": lambda: conv_trace(rgb, kernel3, padding=2),
        "pool_trace 28x28 max + avg, 2x2": lambda: (pool_trace(image, "max"), pool_trace(image, "avg")),
    }
    for name, fn in cases.items():
        best, median = timed(fn, repeats)
        out[f"{name}: best ms"], out[f"{name}: median ms"] = best, median
    pages = {
        "convolution page (digit, 3x3), stride slider": (  # the window's own slider now runs in the browser
            "app_pages/conv.py", {"conv_src": "digit"}, "conv_stride", [2, 3, 1, 2, 3, 1]),
        "convolution page (digit), padding slider": (
            "app_pages/conv.py", {"conv_src": "digit"}, "conv_pad", [1, 2, 3, 0, 1, 2]),
        "pooling page (feature map), digit slider": (
            "app_pages/pooling.py", {}, "pool_digit", [1, 2, 3, 4, 5, 6]),
    }
    for name, (page, params, key, values) in pages.items():
        times = rerun_times(page, params, key, values)
        out[f"{name}: median rerun ms"] = statistics.median(times)
        out[f"{name}: max rerun ms"] = max(times)
    return out


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:75s} {value:8.1f}")
