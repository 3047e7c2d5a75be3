"""Training processes. A run trains in a separate process, so Python work in the server (page reruns of many
students) cannot slow training down through the GIL, and training cannot slow the pages down.

Measured here: one busy Python thread beside an in-process training cut it from about 10,500 to 1,700 digits/s.
This module never imports Streamlit: the children import it, torch and core only.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import threading
import time
import types
from dataclasses import dataclass, field
from typing import Callable, Mapping, Union

import torch

from core.data import Digits
from core.device import resolve_device
from core.errors import LabError
from core.lenet import build_lenet
from core.snapshots import Snapshot
from core.training import BatchRecord, DoneRecord, EpochRecord, TrainConfig, train

CTX = mp.get_context("spawn")  # a fresh interpreter: no forked OpenMP pools or server threads
NICENESS = 10  # lower CPU priority of training processes; alone on the machine they still get all of it
SEND_EVERY = 0.1  # seconds between messages of batch records (the page redraws about once a second)
POLL = 0.2  # seconds between checks of the cancel flag and of the child's health while waiting
_START_LOCK = threading.Lock()


def _start(process: mp.Process) -> None:
    """Start a spawned child without it re-running our __main__ (the app script under AppTest, a test runner...)."""
    with _START_LOCK:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            process.start()
        finally:
            if main is not None:
                sys.modules["__main__"] = main


class WorkerDied(RuntimeError):
    """The training process ended in the middle of a run (killed, out of memory...)."""


# Messages between the server and a training process (pickled through multiprocessing queues).
@dataclass(frozen=True)
class Task:
    """Server -> process: train this configuration on the dataset with this fingerprint."""

    job_id: int
    config: TrainConfig
    fingerprint: str
    data: Digits | None  # None when the process already holds the dataset (sent once per process)


@dataclass(frozen=True)
class Stop:
    """Server -> process: exit."""


@dataclass(frozen=True)
class Ready:
    """Process -> server: torch is imported, the process waits for tasks."""


@dataclass(frozen=True)
class Records:
    """Process -> server: progress of a run, a few records at a time (snapshots of the learning model among them)."""

    job_id: int
    records: tuple[BatchRecord | EpochRecord | Snapshot, ...]


@dataclass(frozen=True)
class Finished:
    """Process -> server: the run ended; its model travels as a state dict (the server rebuilds the LeNet-5)."""

    job_id: int
    reason: str  # DoneRecord.reason
    epochs_run: int
    best_epoch: int
    diverged_step: int | None
    state: dict[str, torch.Tensor]


@dataclass(frozen=True)
class Failed:
    """Process -> server: the run raised; the error as plain values (a translation code, its params, the raw text)."""

    job_id: int
    code: str
    params: dict[str, int | float | str]
    detail: str


Inbound = Union[Task, Stop]  # what a training process reads
Outbound = Union[Ready, Records, Finished, Failed]  # what it sends back


OUT_OF_MEMORY = ("out of memory", "can't allocate memory", "cannot allocate memory")  # torch's allocator messages


def failure_of(exc: BaseException) -> LabError:
    """What a failed run tells the page: a translation code (and its params), the raw text only as the message."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, LabError):
        return exc
    if isinstance(exc, WorkerDied):
        return LabError("train.worker_died", detail)
    if isinstance(exc, MemoryError) or any(s in str(exc).lower() for s in OUT_OF_MEMORY):
        return LabError("train.out_of_memory", detail)
    return LabError("train.failed", detail)


def rebuilt(code: str, params: Mapping[str, object], detail: str) -> LabError:
    """A LabError sent from a training process as plain (code, params, detail)."""
    return LabError(code, detail, **params)


def _lower_priority(pid: int) -> None:
    """Training is background work: the server's page reruns get the cores first when both want them (0: this one)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, max(NICENESS, os.getpriority(os.PRIO_PROCESS, pid)))  # never raised
    except (AttributeError, OSError, TypeError):  # not on this system, or the process has already gone
        pass


def _serve(inbox, outbox, cancel, threads: int, device: str = "auto") -> None:
    """Child process: train whatever arrives, stream the records back. Datasets are kept by fingerprint."""
    _lower_priority(0)  # (the parent already did, as soon as it started us; absolute, so never twice)
    torch.set_num_threads(threads)
    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)  # the first optimizer imports torch._dynamo
    datasets: dict[str, Digits] = {}
    parent = os.getppid()
    orphaned = lambda: os.getppid() != parent  # noqa: E731 - the server died without telling us
    outbox.put(Ready())
    while True:
        try:
            task: Inbound = inbox.get(timeout=2.0)
        except queue.Empty:
            if orphaned():
                return
            continue
        if isinstance(task, Stop):
            return
        if task.data is not None:
            datasets[task.fingerprint] = task.data
        pending: list[BatchRecord | EpochRecord | Snapshot] = []  # sent a few at a time: fewer wake-ups of the server
        flushed = time.monotonic()
        try:
            stop = lambda: cancel.is_set() or orphaned()  # noqa: E731
            for rec in train(task.config, datasets[task.fingerprint], should_stop=stop,
                             device=resolve_device(device)):  # LENET_DEVICE: CUDA when there is one
                if isinstance(rec, DoneRecord):
                    state = {k: v.detach().clone() for k, v in rec.model.state_dict().items()}
                    outbox.put(Records(job_id=task.job_id, records=tuple(pending)))
                    outbox.put(Finished(job_id=task.job_id, reason=rec.reason, epochs_run=rec.epochs_run,
                                        best_epoch=rec.best_epoch, diverged_step=rec.diverged_step, state=state))
                    pending = []
                    continue
                pending.append(rec)
                if isinstance(rec, (EpochRecord, Snapshot)) or time.monotonic() - flushed > SEND_EVERY:
                    outbox.put(Records(job_id=task.job_id, records=tuple(pending)))
                    pending, flushed = [], time.monotonic()
        except Exception as exc:  # reported to the page by the parent, as a translation code
            failure = failure_of(exc)
            params = {k: v if isinstance(v, (int, float, str)) else str(v) for k, v in failure.params.items()}
            outbox.put(Records(job_id=task.job_id, records=tuple(pending)))
            outbox.put(Failed(job_id=task.job_id, code=failure.code, params=params,
                              detail=f"{type(exc).__name__}: {exc}"))


@dataclass(eq=False)
class Worker:
    """One training process and its pipes."""

    process: mp.Process
    inbox: object  # mp.Queue: Task and Stop messages in
    outbox: object  # mp.Queue: Ready, Records, Finished and Failed messages out
    cancel: object  # mp.Event: stop the current run at its next batch
    known: set[str] = field(default_factory=set)  # fingerprints of the datasets it already holds


class WorkerPool:
    """A fixed number of training processes; a run takes one, trains, and gives it back."""

    def __init__(self, size: int, threads: int, device: str = "auto", eager: bool = True) -> None:
        """eager: start every process now (a server: they take seconds to import torch); else each on demand."""
        self.size, self.threads, self.device = max(1, size), max(1, threads), device
        self.free: queue.Queue[Worker] = queue.Queue()
        self.workers: list[Worker] = []
        self.lock = threading.Lock()
        self.closed = False
        self.started = self.size if eager else 0  # processes started or being started (at most size)
        for _ in range(self.started):
            self.free.put(self._spawn())

    def _spawn(self) -> Worker:
        inbox, outbox, cancel = CTX.Queue(), CTX.Queue(), CTX.Event()
        process = CTX.Process(target=_serve, args=(inbox, outbox, cancel, self.threads, self.device), daemon=True,
                              name="lenet-train")
        _start(process)
        _lower_priority(process.pid)  # at once: its start-up (importing torch, ~2 s of CPU) must not slow the first page
        worker = Worker(process, inbox, outbox, cancel)
        with self.lock:
            self.workers.append(worker)
        return worker

    def acquire(self) -> Worker | None:
        """A free training process (blocks while all are busy: that is the queue); None once shut down."""
        while not self.closed:
            with self.lock:  # a pool that is not eager starts a process when none is free and it has fewer than size
                grow = self.free.empty() and self.started < self.size
                self.started += grow
            if grow:
                return self._spawn()
            try:
                return self.free.get(timeout=POLL)
            except queue.Empty:
                pass
        return None

    def release(self, worker: Worker) -> None:
        """Give a process back; a dead one is replaced by a new one."""
        if self.closed:
            return
        if not worker.process.is_alive():
            with self.lock:
                self.workers.remove(worker)
            worker = self._spawn()  # in its place: `started` is unchanged
        self.free.put(worker)

    def run(self, worker: Worker, job_id: int, config: TrainConfig, fingerprint: str, data: Digits,
            on_record: Callable[[BatchRecord | EpochRecord | Snapshot | DoneRecord], None],
            cancelled: Callable[[], bool]) -> None:
        """Train config on worker, calling on_record for every record; raises WorkerDied or LabError."""
        send = None if fingerprint in worker.known else data
        worker.known.add(fingerprint)
        worker.cancel.clear()
        worker.inbox.put(Task(job_id=job_id, config=config, fingerprint=fingerprint, data=send))
        while True:
            try:
                message: Outbound = worker.outbox.get(timeout=POLL)
            except queue.Empty:
                if cancelled():
                    worker.cancel.set()
                if not worker.process.is_alive():
                    raise WorkerDied(f"training process ended (exit code {worker.process.exitcode})") from None
                continue
            if cancelled():
                worker.cancel.set()
            if isinstance(message, Ready) or message.job_id != job_id:
                continue  # the process's hello, or a late record of an earlier run
            if isinstance(message, Failed):
                raise rebuilt(message.code, message.params, message.detail)
            if isinstance(message, Finished):
                model = build_lenet(config.lenet, config.seed)
                model.load_state_dict(message.state)
                on_record(DoneRecord(model=model.eval(), reason=message.reason, epochs_run=message.epochs_run,
                                     best_epoch=message.best_epoch, diverged_step=message.diverged_step))
                return
            for rec in message.records:
                on_record(rec)

    def shutdown(self, timeout: float = 3.0) -> None:
        """Stop every process (their current runs end with them)."""
        self.closed = True
        with self.lock:
            workers = list(self.workers)
        for w in workers:
            w.cancel.set()
            try:
                w.inbox.put(Stop())
            except (OSError, ValueError):
                pass
        for w in workers:
            w.process.join(timeout)
            if w.process.is_alive():
                w.process.terminate()
