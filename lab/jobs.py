"""Background training jobs shared by the whole server: one run per configuration, a bounded number at once.

Workers never call Streamlit. Pages read a job's snapshot from a fragment that refreshes itself.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from core.data import Digits
from core.training import BatchRecord, DoneRecord, EpochRecord, TrainConfig, train
from lab import cache, settings


@dataclass(frozen=True)
class JobView:
    """An immutable copy of a job's progress, safe to draw from any session."""

    config: TrainConfig
    status: str  # "queued", "running", "done", "failed"
    queue_position: int  # 1-based place in the queue while queued, else 0
    losses: tuple[float, ...]  # every batch loss so far
    epochs: tuple[EpochRecord, ...]
    batches_per_epoch: int
    steps_done: int
    done: DoneRecord | None
    error: str | None
    elapsed: float  # seconds since the job started running

    @property
    def progress(self) -> float:
        """Fraction of all steps done, 0..1."""
        total = self.batches_per_epoch * self.config.epochs
        return 1.0 if self.done else (self.steps_done / total if total else 0.0)

    @property
    def eta_seconds(self) -> float | None:
        """Time left at the speed so far, None before the first step."""
        if self.done or not self.steps_done or not self.elapsed:
            return None
        return self.elapsed / self.steps_done * (self.batches_per_epoch * self.config.epochs - self.steps_done)


@dataclass(eq=False)
class Job:
    """A run in progress; mutated only by its worker thread, under its lock."""

    config: TrainConfig
    status: str = "queued"
    losses: list[float] = field(default_factory=list)
    epochs: list[EpochRecord] = field(default_factory=list)
    batches_per_epoch: int = 0
    steps_done: int = 0
    done: DoneRecord | None = None
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    cancel_event: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def cancel(self) -> None:
        """Ask the worker to stop at its next batch."""
        self.cancel_event.set()

    def view(self, queue_position: int = 0) -> JobView:
        """A consistent snapshot for drawing."""
        with self.lock:
            end = self.finished or time.perf_counter()
            return JobView(self.config, self.status, queue_position, tuple(self.losses), tuple(self.epochs),
                           self.batches_per_epoch, self.steps_done, self.done, self.error,
                           end - self.started if self.started else 0.0)


class JobManager:
    """Runs TrainConfigs in daemon threads; identical configurations share one job."""

    def __init__(self, data: Digits, max_parallel: int = settings.MAX_JOBS) -> None:
        self.data = data
        self.jobs: dict[TrainConfig, Job] = {}
        self.queue: list[Job] = []
        self.slots = threading.Semaphore(max(1, max_parallel))
        self.lock = threading.Lock()

    def submit(self, config: TrainConfig) -> Job:
        """The job for this configuration: the existing one if any (also across students), else a new queued one."""
        with self.lock:
            job = self.jobs.get(config)
            if job is not None and job.status != "cancelled":
                return job
            job = self.jobs[config] = Job(config)
            self.queue.append(job)
        threading.Thread(target=self._work, args=(job,), daemon=True, name=f"train-{hash(config) & 0xffff:x}").start()
        return job

    def get(self, config: TrainConfig) -> Job | None:
        """The job for this configuration, if one was submitted."""
        with self.lock:
            return self.jobs.get(config)

    def view(self, config: TrainConfig) -> JobView | None:
        """A snapshot of the job for this configuration, with its place in the queue."""
        job = self.get(config)
        if job is None:
            return None
        with self.lock:
            position = self.queue.index(job) + 1 if job in self.queue else 0
        return job.view(position)

    def cancel(self, config: TrainConfig) -> None:
        """Stop a run (the explicit Stop button); the next submit starts it afresh."""
        job = self.get(config)
        if job is not None:
            job.cancel()

    def _work(self, job: Job) -> None:
        """Worker thread: wait for a slot, train, record. Never calls Streamlit."""
        with self.slots:
            with self.lock:
                self.queue.remove(job)
            if job.cancel_event.is_set():
                self._finish(job, "cancelled")
                return
            with job.lock:
                job.status, job.started = "running", time.perf_counter()
            try:
                for rec in train(job.config, self.data, should_stop=job.cancel_event.is_set):
                    with job.lock:
                        if isinstance(rec, BatchRecord):
                            job.losses.append(rec.loss)
                            job.batches_per_epoch, job.steps_done = rec.batches, rec.step
                        elif isinstance(rec, EpochRecord):
                            job.epochs.append(rec)
                        else:
                            job.done = rec
                self._finish(job, "cancelled" if job.done and job.done.reason == "cancelled" else "done")
            except Exception as exc:  # a worker must never die silently: the page shows the reason
                with job.lock:
                    job.error = f"{type(exc).__name__}: {exc}"
                self._finish(job, "failed")

    def _finish(self, job: Job, status: str) -> None:
        with job.lock:
            job.status, job.finished = status, time.perf_counter()
        if status == "cancelled":
            with self.lock:
                if self.jobs.get(job.config) is job:
                    del self.jobs[job.config]


@st.cache_resource(show_spinner=False)
def manager() -> JobManager:
    """The one job manager of this server."""
    return JobManager(cache.digits())
