"""Background training jobs shared by the whole server: one run per configuration, a bounded number at once.

Workers never call Streamlit. Pages read a job's snapshot from a fragment that refreshes itself. Finished runs are
saved as checkpoints (when a store is given) and found there again after a restart, before any training starts.
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol, TypeVar, Union

from core.checkpoint import REASONS, Checkpoint, data_fingerprint, run_key
from core.data import Digits
from core.errors import LabError
from core.lenet import LeNet5
from core.snapshots import Snapshot
from core.training import BatchRecord, DoneRecord, EpochRecord, Record, TrainConfig, time_left, train
from runtime.checkpoints import CheckpointStore
from runtime.settings import SETTINGS
from runtime.workers import failure_of

RESTARTABLE = ("cancelled", "failed")  # Start runs these again; every other job is shared as it is
USABLE = ("finished", "early_stop")  # endings whose model other pages may show as "trained"
MAX_FINISHED_IN_MEMORY = 64  # older finished runs that are safe on disk are dropped from memory beyond this
DataSource = Union[Digits, Callable[[str], Digits]]
_MANAGERS: "weakref.WeakSet[JobManager]" = weakref.WeakSet()
log = logging.getLogger(__name__)
W = TypeVar("W")


class Pool(Protocol[W]):
    """What JobManager uses of its training processes: runtime.workers.WorkerPool implements it (a Ray backend can
    too). A run acquires a worker (waiting while all are busy: that is the queue), runs on it, and releases it."""

    def acquire(self) -> W | None:
        """A free worker; blocks while all are busy; None once the pool is shut down."""

    def run(self, worker: W, job_id: int, config: TrainConfig, fingerprint: str, data: Digits,
            on_record: Callable[[Record], None], cancelled: Callable[[], bool]) -> None:
        """Train config on data (fingerprint names the data: a worker may keep it for later runs), calling on_record
        for every record in order, the DoneRecord last; stop at the next batch once cancelled() is True. A failed
        run raises: LabError with a translation code, or any exception (runtime.workers.failure_of explains it)."""

    def release(self, worker: W) -> None:
        """Give the worker back after a run (a dead one is replaced)."""

    def shutdown(self) -> None:
        """Stop every worker: their runs end, and waiting acquire() calls return None."""


@dataclass(frozen=True)
class JobView:
    """An immutable copy of a job's progress, safe to draw from any session."""

    config: TrainConfig
    status: str  # "queued", "running", "done", "failed", "cancelled"
    queue_position: int  # 1-based place in the queue while queued, else 0
    losses: tuple[float, ...]  # every batch loss so far
    epochs: tuple[EpochRecord, ...]
    batches_per_epoch: int
    steps_done: int
    done: DoneRecord | None
    error: str | None  # the raw exception text of a failed run: for the server log, never shown to students
    elapsed: float  # seconds since the job started running (the whole training once done)
    key: str = ""  # the run key: names the checkpoint, deep-links the inspect page
    from_disk: bool = False  # loaded from a checkpoint instead of trained by this server
    notice: LabError | None = None  # a bad checkpoint found (and replaced by this run)
    requests: int = 1  # how many times Start was pressed for this run (students share it)
    saved: bool = False  # a checkpoint of it is on disk
    failure: LabError | None = None  # why a failed run failed, as a translation code (the page shows that)
    save_problem: LabError | None = None  # the run finished but could not be saved: it lives in memory only
    snapshots: tuple[Snapshot, ...] = ()  # the model while it learned: before training, early in epoch 1, every epoch
    snapshot_problem: LabError | None = None  # its checkpoint's snapshots were damaged (the run itself is fine)
    time_left: float | None = None  # seconds, smoothed so that it never goes up (core.training.time_left)

    @property
    def progress(self) -> float:
        """Fraction of all steps done, 0..1."""
        total = self.batches_per_epoch * self.config.epochs
        return 1.0 if self.done else (self.steps_done / total if total else 0.0)

    @property
    def eta_seconds(self) -> float | None:
        """Time left at the speed so far (smoothed, never going up), None before the first step and once done."""
        return None if self.done else self.time_left

    @property
    def samples_per_sec(self) -> float | None:
        """Training speed in digits per second (the latest epoch's, else the average so far)."""
        if self.epochs:
            return self.epochs[-1].samples_per_sec
        if self.steps_done and self.elapsed:
            return self.steps_done * self.config.batch_size / self.elapsed
        return None

    @property
    def active(self) -> bool:
        """Still queued or training."""
        return self.status in ("queued", "running")

    @property
    def usable(self) -> bool:
        """Finished with a model worth showing (not cancelled, failed or diverged)."""
        return self.done is not None and self.done.reason in USABLE


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
    key: str = ""
    from_disk: bool = False
    notice: LabError | None = None
    requests: int = 1
    saved: bool = False
    failure: LabError | None = None
    save_problem: LabError | None = None
    data: Digits | None = field(default=None, repr=False)
    fingerprint: str = ""
    thread: threading.Thread | None = field(default=None, repr=False)
    duration: float | None = None  # training seconds of a run loaded from disk
    stamp: float = 0.0  # wall-clock time it finished (file time for a checkpoint): orders "newest first"
    snapshots: list[Snapshot] = field(default_factory=list)
    snapshot_problem: LabError | None = None
    time_left: float | None = None

    def cancel(self) -> None:
        """Ask the worker to stop at its next batch; the job counts as cancelled (restartable) at once."""
        with self.lock:
            self.cancel_event.set()
            if self.status in ("queued", "running"):
                self.status = "cancelled"

    def view(self, queue_position: int = 0) -> JobView:
        """A consistent snapshot for drawing."""
        with self.lock:
            end = self.finished or time.perf_counter()
            elapsed = self.duration if self.duration is not None else (end - self.started if self.started else 0.0)
            return JobView(config=self.config, status=self.status, queue_position=queue_position,
                           losses=tuple(self.losses), epochs=tuple(self.epochs),
                           batches_per_epoch=self.batches_per_epoch, steps_done=self.steps_done, done=self.done,
                           error=self.error, elapsed=elapsed, key=self.key, from_disk=self.from_disk,
                           notice=self.notice, requests=self.requests, saved=self.saved, failure=self.failure,
                           save_problem=self.save_problem, snapshots=tuple(self.snapshots),
                           snapshot_problem=self.snapshot_problem, time_left=self.time_left)

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint, key: str, stamp: float) -> "Job":
        """A finished job rebuilt from disk: no training, same curves."""
        return cls(config=ckpt.config, status="done", losses=list(ckpt.losses), epochs=list(ckpt.epochs),
                   batches_per_epoch=ckpt.batches_per_epoch, steps_done=len(ckpt.losses), done=ckpt.done,
                   finished=time.perf_counter(), key=key, from_disk=True, saved=True, duration=ckpt.seconds,
                   stamp=stamp, snapshots=list(ckpt.snapshots), snapshot_problem=ckpt.snapshot_problem)


class JobManager:
    """Runs TrainConfigs in daemon threads; identical configurations share one job (and one checkpoint)."""

    def __init__(self, data: DataSource, max_parallel: int = SETTINGS.max_jobs,
                 store: CheckpointStore | None = None, pool: Pool[Any] | None = None) -> None:
        self.data = data  # the digits, or a function from TrainConfig.dataset to the digits
        self.store = store
        self.pool = pool  # training processes; None trains in threads of this process (unit tests)
        self.jobs: dict[TrainConfig, Job] = {}
        self.queue: list[Job] = []
        self.slots = threading.Semaphore(max(1, max_parallel))
        self.lock = threading.Lock()
        # (key, fingerprint) -> (file signature, problem): a file foreign to one dataset may be another's good run
        self.bad_files: dict[tuple[str, str], tuple[tuple[float, int], LabError]] = {}
        self._fingerprints: dict[int, tuple[Digits, str]] = {}
        _MANAGERS.add(self)

    # -- identity -------------------------------------------------------------------------------------------------
    def digits_for(self, config: TrainConfig) -> Digits:
        """The digits this configuration trains on (LabError if that dataset is not available)."""
        return self.data if isinstance(self.data, Digits) else self.data(config.dataset)

    def fingerprint(self, data: Digits) -> str:
        """data_fingerprint, computed once per dataset object."""
        hit = self._fingerprints.get(id(data))
        if hit is None or hit[0] is not data:
            hit = self._fingerprints[id(data)] = (data, data_fingerprint(data))
        return hit[1]

    def canonical(self, config: TrainConfig) -> TrainConfig:
        """The configuration in the one form that names its job and checkpoint (LabError if its data is missing)."""
        return config.normalized(len(self.digits_for(config).train_labels))

    def key(self, config: TrainConfig) -> str:
        """The run key of a configuration on its dataset."""
        return run_key(self.canonical(config), self.fingerprint(self.digits_for(config)))

    # -- disk -----------------------------------------------------------------------------------------------------
    def _from_disk(self, config: TrainConfig | None, key: str, fingerprint: str) -> Job | None:
        """A finished job from its checkpoint; None if absent or bad (the problem is remembered for the page)."""
        if self.store is None:
            return None
        try:
            stat = self.store.path(key).stat()
        except (OSError, ValueError):  # no file, or a key that is no key (it came from a URL)
            return None
        signature = (stat.st_mtime, stat.st_size)
        known = self.bad_files.get((key, fingerprint))
        if known is not None and known[0] == signature:
            return None  # already reported; Start retrains and overwrites it
        try:
            ckpt = self.store.load_key(key, fingerprint, config)
        except LabError as exc:
            self.bad_files[(key, fingerprint)] = (signature, exc)
            return None
        return None if ckpt is None else Job.from_checkpoint(ckpt, key, stat.st_mtime)

    def problem(self, config: TrainConfig) -> LabError | None:
        """The checkpoint problem found for this configuration, if its file was bad."""
        try:
            known = self.bad_files.get((self.key(config), self.fingerprint(self.digits_for(config))))
        except LabError:
            return None
        return known[1] if known else None

    @property
    def warning(self) -> LabError | None:
        """Why checkpoints are not being saved (read-only folder), if they are not."""
        return self.store.warning if self.store is not None else None

    def _adopt(self, job: Job) -> Job:
        """Keep a disk-loaded job in memory unless another appeared meanwhile (call under self.lock)."""
        current = self.jobs.get(job.config)
        if current is not None and current.status not in RESTARTABLE:
            return current
        self.jobs[job.config] = job
        return job

    # -- jobs -----------------------------------------------------------------------------------------------------
    def submit(self, config: TrainConfig) -> Job:
        """The job for this configuration: in memory, else from disk, else a new queued run (also across students)."""
        data = self.digits_for(config)
        config = config.normalized(len(data.train_labels))
        with self.lock:
            job = self.jobs.get(config)
            if job is not None and job.status not in RESTARTABLE:
                job.requests += 1
                return job
        fingerprint = self.fingerprint(data)
        key = run_key(config, fingerprint)
        stored = self._from_disk(config, key, fingerprint)
        with self.lock:
            if stored is not None:
                return self._adopt(stored)
            job = self.jobs.get(config)
            if job is not None and job.status not in RESTARTABLE:
                job.requests += 1
                return job
            known = self.bad_files.pop((key, fingerprint), None)
            job = self.jobs[config] = Job(config=config, key=key, notice=known[1] if known else None, data=data,
                                          fingerprint=fingerprint)
            self.queue.append(job)
        job.thread = threading.Thread(target=self._work, args=(job,), daemon=True, name=f"train-{key[:6]}")
        job.thread.start()
        return job

    def get(self, config: TrainConfig) -> Job | None:
        """The job for this configuration, if one was submitted (memory only)."""
        try:
            config = self.canonical(config)
        except LabError:
            return None
        with self.lock:
            return self.jobs.get(config)

    def view(self, config: TrainConfig) -> JobView | None:
        """A snapshot of this configuration's run (in memory, else its checkpoint), with its place in the queue."""
        job = self.get(config)
        if job is None and self.store is not None:
            try:
                data = self.digits_for(config)
            except LabError:
                return None
            fingerprint, config = self.fingerprint(data), config.normalized(len(data.train_labels))
            stored = self._from_disk(config, run_key(config, fingerprint), fingerprint)
            if stored is None:
                return None
            with self.lock:
                job = self._adopt(stored)
        return None if job is None else self._view_of(job)

    def _view_of(self, job: Job) -> JobView:
        """A job's snapshot with its place in the queue."""
        with self.lock:
            position = self.queue.index(job) + 1 if job in self.queue else 0
        return job.view(position)

    def find(self, key: str, fingerprints: list[str]) -> JobView | None:
        """The run with this key, in memory or on disk (for deep links to a trained model)."""
        with self.lock:
            job = next((j for j in self.jobs.values() if j.key == key), None)
        if job is not None:
            return self._view_of(job)  # by the job itself: an older file's configuration may not be canonical
        for fingerprint in fingerprints:
            stored = self._from_disk(None, key, fingerprint)
            if stored is not None:
                with self.lock:
                    return self._adopt(stored).view()
        return None

    def trained(self, fingerprints: list[str], limit: int = 8) -> list[JobView]:
        """The newest runs with a usable model (memory and disk), newest first; never one still training."""
        if self.store is not None:
            for key in self.store.recent_keys(limit):
                self.find(key, fingerprints)
        with self.lock:
            jobs = [j for j in self.jobs.values() if j.status == "done" and j.done and j.done.reason in USABLE]
        jobs.sort(key=lambda j: j.stamp, reverse=True)
        return [j.view() for j in jobs[:limit]]

    def active(self) -> list[JobView]:
        """Every run training or waiting on this server, in the order they were submitted (whoever started it)."""
        with self.lock:  # stamp is set only when a run finishes: the dict's own order is the submission order
            jobs = [j for j in self.jobs.values() if j.status in ("queued", "running")]
        return [self._view_of(j) for j in jobs]

    def cancel(self, config: TrainConfig) -> None:
        """Stop a run (the explicit Stop button): at once restartable (the next submit starts it afresh), and out
        of the queue, so the runs behind it move up. Its worker stops at the next batch."""
        job = self.get(config)
        if job is None:
            return
        job.cancel()
        with self.lock:
            if job in self.queue:
                self.queue.remove(job)

    def _work(self, job: Job) -> None:
        """Worker thread: wait for a slot (a thread slot or a training process), train, record, save."""
        if self.pool is None:
            with self.slots:
                self._run(job, None)
            return
        worker = self.pool.acquire()
        if worker is None:  # the pool was shut down while this run waited
            with self.lock:
                if job in self.queue:
                    self.queue.remove(job)
            self._finish(job, "cancelled")
            return
        try:
            self._run(job, worker)
        finally:
            self.pool.release(worker)

    def _record(self, job: Job, rec: Record) -> None:
        with job.lock:
            if not job.started:  # a training process that was still starting up: count from its first record
                job.started = time.perf_counter()
            if isinstance(rec, BatchRecord):
                job.losses.append(rec.loss)
                job.batches_per_epoch, job.steps_done = rec.batches, rec.step
                job.time_left = time_left(job.time_left, time.perf_counter() - job.started, rec.step,
                                          rec.batches * job.config.epochs)
            elif isinstance(rec, EpochRecord):
                job.epochs.append(rec)
            elif isinstance(rec, Snapshot):
                job.snapshots.append(rec)
            else:
                job.done = rec

    def _run(self, job: Job, worker: object | None) -> None:
        """Train one job here or in a training process. Never calls Streamlit."""
        with self.lock:
            if job in self.queue:
                self.queue.remove(job)
        with job.lock:
            stopped = job.cancel_event.is_set()
            if not stopped:
                job.status = "running"
                job.started = time.perf_counter() if worker is None else 0.0
        if stopped:
            self._finish(job, "cancelled")
            return
        try:
            data = job.data if job.data is not None else self.digits_for(job.config)
            if worker is None:
                for rec in train(job.config, data, should_stop=job.cancel_event.is_set):
                    self._record(job, rec)
            else:
                fingerprint = job.fingerprint or self.fingerprint(data)
                self.pool.run(worker, id(job), job.config, fingerprint, data, lambda rec: self._record(job, rec),
                              job.cancel_event.is_set)
            if job.done is None:
                raise RuntimeError("training ended without a final record")
        except Exception as exc:  # a worker must never die silently: the page shows why, translated
            log.warning("training run %s failed", job.key, exc_info=True)
            with job.lock:
                job.error, job.failure = f"{type(exc).__name__}: {exc}", failure_of(exc)
            self._finish(job, "failed")
            return
        cancelled = job.done.reason == "cancelled"
        if not cancelled:
            self._save(job)  # never raises: a run that cannot be saved stays in memory, with a warning
        self._finish(job, "cancelled" if cancelled else "done")

    def shutdown(self) -> None:
        """Cancel every run and stop the training processes (server shutdown, cache cleared)."""
        with self.lock:
            active = [j for j in self.jobs.values() if j.status in ("queued", "running")]
        for job in active:
            job.cancel()
        if self.pool is not None:
            self.pool.shutdown()

    def _save(self, job: Job) -> None:
        """Write the finished run's checkpoint (in the worker, before it is marked done). Never raises: whatever
        goes wrong, the trained model stays in memory and the page says it was not saved."""
        if self.store is None or job.done is None or job.done.reason not in REASONS or not job.fingerprint:
            return
        problem = None
        try:
            with job.lock:
                d = job.done
                ckpt = Checkpoint(config=job.config, model=d.model, epochs=tuple(job.epochs), losses=tuple(job.losses),
                                  batches_per_epoch=job.batches_per_epoch, reason=d.reason, epochs_run=d.epochs_run,
                                  best_epoch=d.best_epoch, diverged_step=d.diverged_step,
                                  seconds=time.perf_counter() - job.started, snapshots=tuple(job.snapshots))
            saved = self.store.save(ckpt, job.fingerprint)
        except Exception as exc:  # noqa: BLE001 - a finished run is never lost to its checkpoint
            log.warning("saving run %s failed", job.key, exc_info=True)
            saved = False
            problem = exc if isinstance(exc, LabError) and exc.code.startswith("checkpoint.") else \
                LabError("checkpoint.save_failed", f"{type(exc).__name__}: {exc}")
        with job.lock:
            job.saved, job.save_problem = saved, problem

    def _finish(self, job: Job, status: str) -> None:
        with job.lock:
            job.status, job.finished, job.stamp = status, time.perf_counter(), time.time()
            job.data = None  # the dataset is shared and cached elsewhere; do not pin it
        with self.lock:
            # A cancelled run stays (restartable) so that everyone watching it reads "stopped", not "not trained".
            idle = [j for j in self.jobs.values() if (j.status == "done" and j.saved) or j.status in RESTARTABLE]
            for old in sorted(idle, key=lambda j: j.finished)[: max(0, len(idle) - MAX_FINISHED_IN_MEMORY)]:
                del self.jobs[old.config]  # safe on disk (view() reloads it when asked), or nothing worth keeping


def stop_all(timeout: float = 5.0) -> None:
    """Cancel every queued or running job and wait for the workers (at exit: a thread killed inside torch aborts)."""
    pending = []
    for mgr in list(_MANAGERS):
        with mgr.lock:
            pending += [j for j in mgr.jobs.values() if j.thread is not None and j.thread.is_alive()]
    for job in pending:
        job.cancel()
    deadline = time.monotonic() + timeout
    for job in pending:
        job.thread.join(max(0.0, deadline - time.monotonic()))
    for mgr in list(_MANAGERS):
        if mgr.pool is not None:
            mgr.pool.shutdown()


atexit.register(stop_all)


def labelled(views: Iterable[JobView]) -> dict[str, JobView]:
    """Run label -> finished run (JobManager.trained); a label taken twice gets its key's start."""
    out: dict[str, JobView] = {}
    for view in views:
        label = view.config.run_label
        out[label if label not in out else f"{label} #{view.key[:4]}"] = view
    return out


def labelled_models(views: Iterable[JobView]) -> dict[str, LeNet5]:
    """Run label -> trained model of finished runs (the labels of `labelled`)."""
    return {label: view.done.model for label, view in labelled(views).items()}
