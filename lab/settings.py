"""Server-wide settings read from the environment once (documented in the README)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR: str | None = os.environ.get("LENET_MNIST_DIR") or None  # a torchvision MNIST folder, if any
CACHE_DIR = Path(os.environ.get("LENET_CACHE_DIR", ROOT / ".lenet-cache"))  # trained checkpoints
THREADS = int(os.environ.get("LENET_THREADS", "0")) or max(1, min(2, os.cpu_count() or 1))  # torch intra-op
MAX_JOBS = int(os.environ.get("LENET_MAX_JOBS", "2"))  # trainings that run at once; the rest queue
# torch threads in each training process: the cores shared out among the runs that train at once
TRAIN_THREADS = int(os.environ.get("LENET_TRAIN_THREADS", "0")) or max(1, THREADS // max(1, MAX_JOBS))
