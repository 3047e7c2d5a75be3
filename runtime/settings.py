"""Server-wide settings, read from the environment once (documented in the README's "Training runs" section)."""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    """How this server runs. Frozen and hashable, so a cache can be keyed on it. Settings() is the smallest server
    (one core); Settings.from_env() reads the environment, and the comments give its defaults."""

    mnist_dir: str | None = None  # LENET_MNIST_DIR: a torchvision MNIST folder; None: the embedded 5,000 digits
    cache_dir: Path = ROOT / ".lenet-cache"  # LENET_CACHE_DIR: where finished runs are saved (checkpoints)
    threads: int = 1  # LENET_THREADS: torch intra-op threads of the page reruns; default: the cores, at most 2
    max_jobs: int = 1  # LENET_MAX_JOBS: trainings at once, the rest queue; default 2, never above the core count
    # (each is a process that imports torch, about 300 MB: a typo like 200 must not start 200 of them)
    train_threads: int = 1  # LENET_TRAIN_THREADS: torch threads of each training; default: threads // max_jobs
    device: str = "auto"  # LENET_DEVICE: where training runs: "auto" (a GPU when there is one), "cpu", "cuda[:N]"
    job_backend: str = "local"  # LENET_JOB_BACKEND: "local" (a process pool here) or "ray" (tasks on a Ray cluster)
    ray_address: str = "local"  # LENET_RAY_ADDRESS: "local" starts a small Ray here; an address joins that cluster
    warm_pages: bool = True  # LENET_WARM_PAGES=0: no background computing of the pages' defaults at start (tests)
    eager_workers: bool = True  # LENET_EAGER_WORKERS=0: training processes start with the first run, not the server
    # (tests: most modules never train, and each pair of processes costs ~5 s of CPU importing torch)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, cores: int | None = None,
                 note: Callable[[str], None] | None = None) -> "Settings":
        """Settings from environment variables (os.environ by default) on a machine with `cores` cores (os.cpu_count).
        A malformed or capped value is explained by `note` (the server's console by default), never a crash."""
        env = os.environ if environ is None else environ
        cores = max(1, cores or os.cpu_count() or 1)
        note = note or (lambda text: print(f"LeNet Lab: {text}", file=sys.stderr))

        def count(name: str, default: int) -> int:
            """A whole number >= 0; a malformed value is reported and the default used."""
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
                if value < 0:
                    raise ValueError(raw)
                return value
            except ValueError:
                note(f"ignoring {name}={raw!r} (expected a whole number >= 0); using {default}")
                return default

        def word(name: str, pattern: str, default: str) -> str:
            """A lower-case word matching pattern; anything else is reported and the default used."""
            raw = env.get(name, "").strip().lower()
            if raw and not re.fullmatch(pattern, raw):
                note(f"ignoring {name}={raw!r} (expected {pattern}); using {default}")
                return default
            return raw or default

        threads = count("LENET_THREADS", 0) or min(2, cores)
        max_jobs = count("LENET_MAX_JOBS", min(2, cores)) or 1
        if max_jobs > cores:
            note(f"LENET_MAX_JOBS={max_jobs} is more than the {cores} cores of this machine; using {cores} "
                 f"(each training is a process of its own, about 300 MB)")
            max_jobs = cores
        return cls(mnist_dir=env.get("LENET_MNIST_DIR") or None,
                   cache_dir=Path(env.get("LENET_CACHE_DIR") or ROOT / ".lenet-cache"),
                   threads=threads,
                   max_jobs=max_jobs,
                   train_threads=count("LENET_TRAIN_THREADS", 0) or max(1, threads // max_jobs),
                   device=word("LENET_DEVICE", r"auto|cpu|cuda(:\d+)?", "auto"),
                   job_backend=word("LENET_JOB_BACKEND", r"local|ray", "local"),
                   ray_address=env.get("LENET_RAY_ADDRESS", "").strip() or "local",
                   warm_pages=env.get("LENET_WARM_PAGES", "1").strip() != "0",
                   eager_workers=env.get("LENET_EAGER_WORKERS", "1").strip() != "0")


SETTINGS = Settings.from_env()  # read once, when the server starts
