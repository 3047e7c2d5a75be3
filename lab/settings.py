"""Server-wide settings read from the environment once (documented in the README)."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path


def _count(name: str, default: int) -> int:
    """A whole number >= 0 from the environment; a malformed value is reported on the console and ignored."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
        if value < 0:
            raise ValueError(raw)
        return value
    except ValueError:
        print(f"LeNet Lab: ignoring {name}={raw!r} (expected a whole number >= 0); using {default}", file=sys.stderr)
        return default


def _choice(name: str, pattern: str, default: str) -> str:
    """A lower-case word matching pattern from the environment; anything else is reported and ignored."""
    raw = os.environ.get(name, "").strip().lower()
    if raw and not re.fullmatch(pattern, raw):
        print(f"LeNet Lab: ignoring {name}={raw!r} (expected {pattern}); using {default}", file=sys.stderr)
    return raw if raw and re.fullmatch(pattern, raw) else default


ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR: str | None = os.environ.get("LENET_MNIST_DIR") or None  # a torchvision MNIST folder, if any
CACHE_DIR = Path(os.environ.get("LENET_CACHE_DIR") or ROOT / ".lenet-cache")  # trained checkpoints
THREADS = _count("LENET_THREADS", 0) or max(1, min(2, os.cpu_count() or 1))  # torch intra-op threads of the pages
MAX_JOBS = _count("LENET_MAX_JOBS", 2) or 1  # trainings that run at once; the rest queue
# torch threads in each training process: the cores shared out among the runs that train at once
TRAIN_THREADS = _count("LENET_TRAIN_THREADS", 0) or max(1, THREADS // MAX_JOBS)
# -- scale-out (issue 14): where training runs ------------------------------------------------------------------
DEVICE = _choice("LENET_DEVICE", r"auto|cpu|cuda(:\d+)?", "auto")  # auto: CUDA when torch sees a GPU, else the CPU
JOB_BACKEND = _choice("LENET_JOB_BACKEND", r"local|ray", "local")  # local process pool, or tasks on a Ray cluster
RAY_ADDRESS = os.environ.get("LENET_RAY_ADDRESS", "").strip() or "local"  # "local" starts Ray here; else join it
