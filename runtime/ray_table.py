"""The cluster side of LENET_JOB_BACKEND=ray: one job table for every replica, and the training task.

The table is a named, detached Ray actor. Replicas ask it for a run by its key (configuration + data); it queues the
run, starts it as a Ray task when a slot is free, collects the records the task streams back, and keeps the
finished model. Stop cancels the task (ray.cancel, which ends its worker process). The task trains with core.training.train and saves the
checkpoint itself, into the folder of the replica that asked (the shared LENET_CACHE_DIR).

Nothing here imports Streamlit, and the actor never imports torch (it would cost it about 500 MB): everything
crossing a process boundary is plain data - configurations as dicts, records as tuples, the trained weights as the
bytes of torch.save, errors as (code, params, detail).
"""
from __future__ import annotations

import asyncio
import io
import os
import time
from dataclasses import astuple, dataclass, field

import ray

from core.errors import LabError

TABLE, NAMESPACE = "lenet-jobs", "lenet"  # the actor's name: every replica finds the same one
RESTARTABLE = ("cancelled", "failed")  # as in runtime.jobs: Start trains these again
KEEP_FINISHED = 64  # finished runs whose model the table keeps (older ones are on disk, or gone)
GPU_SHARE = 0.25  # of a GPU per run when the cluster has GPUs: LeNet-5 is tiny, four runs share one
SEND_EVERY = 0.1  # seconds between the task's progress reports (the pages redraw about once a second)
NICENESS = 10  # training yields the CPU to the pages of a replica on the same machine
Problem = tuple  # (code, params, detail): a LabError in transit


@dataclass
class Entry:
    """One run in the table (a key can be run again after Stop or a failure: `run` names the attempt)."""

    key: str
    config: dict  # TrainConfig's fields
    fingerprint: str
    folder: str
    mnist_dir: str | None
    run: int = field(default_factory=time.time_ns)  # unique, even across tables: a replica's copy never mixes two
    status: str = "queued"
    losses: list[float] = field(default_factory=list)
    epochs: list[tuple] = field(default_factory=list)  # EpochRecord's fields
    snaps: list[bytes] = field(default_factory=list, repr=False)  # core.snapshots, each as the bytes of torch.save(pack)
    batches_per_epoch: int = 0
    steps_done: int = 0
    started: float = 0.0  # wall clock of the first record
    finished: float = 0.0
    seconds: float | None = None  # training time measured by the task
    requests: int = 1
    done: tuple | None = None  # (reason, epochs_run, best_epoch, diverged_step)
    state: bytes | None = field(default=None, repr=False)  # the trained weights (torch.save), for replicas to show
    saved: bool = False
    failure: Problem | None = None
    save_problem: Problem | None = None
    notice: Problem | None = None  # a bad checkpoint this run replaces
    error: str | None = None  # raw text, for server logs only
    ref: object = field(default=None, repr=False)  # the running task's ObjectRef

    def snapshot(self, position: int, losses_from: int = 0, epochs_from: int = 0, curves: bool = True,
                 snaps_from: int = 0) -> dict:
        """Plain data for a replica: everything but the model, and the curves and snapshots from where it is."""
        end = self.finished or time.time()
        return {"key": self.key, "config": self.config, "run": self.run, "status": self.status,
                "position": position, "losses": self.losses[losses_from:] if curves else [],
                "losses_from": losses_from if curves else 0, "epochs": self.epochs[epochs_from:],
                "epochs_from": epochs_from, "snaps": self.snaps[snaps_from:] if curves else [],
                "snaps_from": snaps_from if curves else 0,
                "batches_per_epoch": self.batches_per_epoch, "steps_done": self.steps_done,
                "elapsed": self.seconds if self.seconds is not None else (end - self.started if self.started else 0.0),
                "requests": self.requests, "done": self.done, "model": self.state is not None, "saved": self.saved,
                "failure": self.failure, "save_problem": self.save_problem, "notice": self.notice,
                "error": self.error}


@ray.remote(num_cpus=0, max_restarts=0)
class JobTable:
    """The cluster's job table (async actor: one event loop, so no locks). Created once by the first replica."""

    def __init__(self, slots: int, threads: int, device: str) -> None:
        self.slots, self.threads, self.device = max(1, slots), max(1, threads), device
        self.entries: dict[str, Entry] = {}
        self.queue: list[str] = []
        self.running = 0  # tasks started and not yet ended (a cancelled one holds its slot until it ends)
        self.started = 0  # tasks started in all (tests: identical settings from two replicas train once)

    # -- asked by replicas ----------------------------------------------------------------------------------------
    async def submit(self, key: str, config: dict, fingerprint: str, folder: str, mnist_dir: str | None,
                     notice: Problem | None = None) -> dict:
        """The run for this key: the one in the table (one more request), or a new queued one."""
        entry = self.entries.get(key)
        if entry is not None and entry.status not in RESTARTABLE:
            entry.requests += 1
            return self._snapshot(entry)
        self.entries.pop(key, None)  # dict order is submission order: a restarted run goes to the end
        self.entries[key] = entry = Entry(key, config, fingerprint, folder, mnist_dir, notice=notice)
        self.queue.append(key)
        self._schedule()
        return self._snapshot(entry)

    async def snapshot(self, key: str, run: int = 0, losses_from: int = 0, epochs_from: int = 0,
                       snaps_from: int = 0) -> dict | None:
        """A run's state; curves from the given positions when the replica already has that run's beginning."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry.run != run:
            losses_from = epochs_from = snaps_from = 0
        return self._snapshot(entry, losses_from, epochs_from, snaps_from=snaps_from)

    async def active(self) -> list[dict]:
        """Every queued or running run, in submission order, without batch losses (epochs are few)."""
        return [self._snapshot(e, curves=False) for e in self.entries.values() if e.status in ("queued", "running")]

    async def cancel(self, key: str) -> None:
        """Stop: out of the queue, or its task cancelled. Restartable at once."""
        entry = self.entries.get(key)
        if entry is None or entry.status not in ("queued", "running"):
            return
        entry.status, entry.finished = "cancelled", time.time()
        if key in self.queue:
            self.queue.remove(key)
        if entry.ref is not None:
            # force: the worker process ends with the task. A KeyboardInterrupt (force=False) that lands while a fresh
            # worker is still importing torch leaves it half-imported for every later run in that process (seen).
            ray.cancel(entry.ref, force=True)

    async def model(self, key: str, run: int) -> bytes | None:
        """The trained weights of a finished run (a torch.save'd state dict), None if the table no longer has them."""
        entry = self.entries.get(key)
        return entry.state if entry is not None and entry.run == run else None

    async def stats(self) -> dict:
        """For tests and benchmarks: how many runs were started in all, and what is queued and running."""
        return {"started": self.started, "running": self.running, "queued": len(self.queue), "slots": self.slots}

    # -- asked by training tasks ----------------------------------------------------------------------------------
    async def report(self, key: str, run: int, records: list) -> bool:
        """Records from a training task; True when the task should stop (the run was stopped or replaced)."""
        entry = self.entries.get(key)
        if entry is None or entry.run != run or entry.status != "running":
            return True
        if not entry.started:
            entry.started = time.time()
        for rec in records:  # ("batch", loss, batches per epoch, step), ("snap", bytes) or ("epoch", *EpochRecord's fields)
            if rec[0] == "batch":
                entry.losses.append(rec[1])
                entry.batches_per_epoch, entry.steps_done = rec[2], rec[3]
            elif rec[0] == "snap":
                entry.snaps.append(rec[1])
            else:
                entry.epochs.append(rec[1:])
        return False

    # -- inside -------------------------------------------------------------------------------------------------
    def _snapshot(self, entry: Entry, losses_from: int = 0, epochs_from: int = 0, curves: bool = True,
                  snaps_from: int = 0) -> dict:
        position = self.queue.index(entry.key) + 1 if entry.key in self.queue else 0
        return entry.snapshot(position, losses_from, epochs_from, curves, snaps_from)

    def _schedule(self) -> None:
        """Start queued runs while there are free slots."""
        while self.queue and self.running < self.slots:
            entry = self.entries[self.queue.pop(0)]
            entry.status = "running"
            gpus = GPU_SHARE if self.device != "cpu" and ray.cluster_resources().get("GPU", 0) else 0
            me = ray.get_runtime_context().current_actor
            entry.ref = train_run.options(num_cpus=self.threads, num_gpus=gpus, max_retries=0).remote(
                me, entry.key, entry.run, entry.config, entry.fingerprint, entry.folder, entry.mnist_dir,
                self.threads, self.device)
            self.running += 1
            self.started += 1
            asyncio.get_running_loop().create_task(self._watch(entry, entry.run, entry.ref))

    async def _watch(self, entry: Entry, run: int, ref) -> None:
        """Wait for a task to end and record how it ended; then free its slot."""
        outcome: tuple
        try:
            outcome = await ref
        except ray.exceptions.TaskCancelledError:
            outcome = ("cancelled",)
        except ray.exceptions.RayError as exc:  # the worker process or its machine died, or the task could not run
            detail = f"{type(exc).__name__}: {exc}"
            died = isinstance(exc, (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                                    ray.exceptions.LocalRayletDiedError))
            failure = LabError("train.cluster_worker_died", detail) if died else LabError("train.failed", detail)
            outcome = ("error", failure.code, {}, detail)
        finally:
            self.running -= 1
        if self.entries.get(entry.key) is entry and entry.run == run:
            self._end(entry, outcome)
        self._schedule()

    def _end(self, entry: Entry, outcome: tuple) -> None:
        entry.ref, entry.finished = None, time.time()
        if entry.status == "cancelled" or outcome[0] == "cancelled" or outcome[1] == "cancelled":
            entry.status = "cancelled"  # however the task ended after Stop (its worker was killed)
        elif outcome[0] == "error":
            entry.status, entry.failure, entry.error = "failed", outcome[1:4], outcome[3]
        else:
            _, reason, epochs_run, best_epoch, diverged_step, state, seconds, saved, save_problem = outcome
            entry.done, entry.state, entry.seconds = (reason, epochs_run, best_epoch, diverged_step), state, seconds
            entry.saved, entry.save_problem, entry.status = saved, save_problem, "done"
        idle = [e for e in self.entries.values() if e.status in ("done",) + RESTARTABLE]
        for old in sorted(idle, key=lambda e: e.finished)[: max(0, len(idle) - KEEP_FINISHED)]:
            del self.entries[old.key]


_DATA: dict[tuple[str, str | None], tuple] = {}  # per worker process: (dataset, folder) -> (digits, fingerprint)
_NICE = [False]


def _digits(dataset: str, mnist_dir: str | None, fingerprint: str):
    """The digits a run trains on, loaded once per worker process and checked against the replica's."""
    from core.checkpoint import data_fingerprint
    from core.data import load_digits

    where = (dataset, mnist_dir if dataset == "mnist" else None)
    if where not in _DATA:
        data = load_digits(where[1])
        if dataset == "mnist" and data.source != "mnist":
            raise LabError("train.no_mnist", data.fallback_detail or "")
        _DATA[where] = (data, data_fingerprint(data))
    data, found = _DATA[where]
    if found != fingerprint:
        raise LabError("train.data_mismatch", f"worker digits {found}, replica digits {fingerprint}")
    return data


@ray.remote(max_retries=0)
def train_run(table, key: str, run: int, fields: dict, fingerprint: str, folder: str,
              mnist_dir: str | None, threads: int, device: str) -> tuple:
    """A Ray task: train one run, stream its records to the table, save the checkpoint; the outcome as plain data.
    Ends with ("done", reason, epochs_run, best_epoch, diverged_step, state, seconds, saved, save_problem) or
    ("error", code, params, detail). Stop arrives as ray.cancel (KeyboardInterrupt) or as the table's answer."""
    import torch

    from core.device import resolve_device
    from core.snapshots import Snapshot, to_bytes
    from core.training import BatchRecord, DoneRecord, EpochRecord, TrainConfig, train
    from runtime.workers import failure_of

    if not _NICE[0]:
        try:
            os.nice(NICENESS)
        except (AttributeError, OSError):
            pass
        _NICE[0] = True
    torch.set_num_threads(threads)
    losses, epochs, snaps, pending, stop, batches = [], [], [], [], [False], 0
    flushed, started = time.monotonic(), time.perf_counter()

    def flush() -> None:
        stop[0] = ray.get(table.report.remote(key, run, list(pending))) or stop[0]
        pending.clear()

    try:
        config = TrainConfig(**fields)
        data = _digits(config.dataset, mnist_dir, fingerprint)
        for rec in train(config, data, should_stop=lambda: stop[0], device=resolve_device(device)):
            if isinstance(rec, DoneRecord):
                flush()
                seconds = time.perf_counter() - started
                saved, problem = _save(folder, config, fingerprint, rec, epochs, losses, batches, seconds, snaps)
                state = io.BytesIO()
                torch.save(rec.model.state_dict(), state)
                return ("done", rec.reason, rec.epochs_run, rec.best_epoch, rec.diverged_step, state.getvalue(),
                        seconds, saved, problem)
            if isinstance(rec, BatchRecord):
                pending.append(("batch", rec.loss, rec.batches, rec.step))
                losses.append(rec.loss)
                batches = rec.batches
            elif isinstance(rec, EpochRecord):
                pending.append(("epoch",) + astuple(rec))
                epochs.append(rec)
            elif isinstance(rec, Snapshot):  # a few KB: the table keeps the bytes, it never imports torch
                pending.append(("snap", to_bytes(rec)))
                snaps.append(rec)
            if isinstance(rec, (EpochRecord, Snapshot)) or time.monotonic() - flushed > SEND_EVERY:
                flush()
                flushed = time.monotonic()
    except Exception as exc:  # reported to the pages as a translation code; never a traceback
        failure = failure_of(exc)
        params = {k: v if isinstance(v, (int, float, str)) else str(v) for k, v in failure.params.items()}
        return ("error", failure.code, params, f"{type(exc).__name__}: {exc}")
    return ("error", "train.failed", {}, f"training ended without a final record ({batches} batches)")


def _save(folder: str, config, fingerprint: str, done, epochs: list, losses: list, batches: int,
          seconds: float, snaps: list = ()) -> tuple[bool, Problem | None]:
    """Save a finished run as runtime.jobs does (never raises): (saved, problem as (code, params, detail))."""
    from core.checkpoint import REASONS, Checkpoint
    from runtime.checkpoints import CheckpointStore

    if not folder or done.reason not in REASONS:  # no folder: the replica keeps models in memory only
        return False, None
    store = CheckpointStore(folder)
    try:
        ckpt = Checkpoint(config, done.model, tuple(epochs), tuple(losses), batches, done.reason, done.epochs_run,
                          done.best_epoch, done.diverged_step, seconds, snapshots=tuple(snaps))
        if store.save(ckpt, fingerprint):
            return True, None
        problem = store.warning
    except Exception as exc:  # noqa: BLE001 - a finished run is never lost to its checkpoint
        problem = exc if isinstance(exc, LabError) and exc.code.startswith("checkpoint.") else \
            LabError("checkpoint.save_failed", f"{type(exc).__name__}: {exc}")
    return False, (problem.code, {k: str(v) for k, v in problem.params.items()}, str(problem))
