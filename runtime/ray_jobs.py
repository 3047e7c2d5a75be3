"""The replica side of LENET_JOB_BACKEND=ray: a JobManager whose runs live in the cluster's job table.

It offers the pages the same calls as runtime.jobs.JobManager (submit, get, view, find, trained, active, cancel,
problem, warning, key, canonical, fingerprint): identity, checkpoints on disk and finished models are handled as
there; queued and running runs are asked of the table (runtime.ray_table), so every replica sees the same runs,
places in the queue and Stop. A finished run's model is fetched once and kept here.

When the cluster cannot be reached, pages keep working from disk: `warning` says so (train.cluster_unreachable)
and Start reports it.
"""
from __future__ import annotations

import io
import logging
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass

import torch

from core.checkpoint import run_key
from core.errors import LabError
from core.lenet import build_lenet
from core.snapshots import from_bytes
from core.training import DoneRecord, EpochRecord, TrainConfig
from runtime.checkpoints import CheckpointStore
from runtime.jobs import MAX_FINISHED_IN_MEMORY, RESTARTABLE, DataSource, Job, JobManager, JobView
from runtime.workers import rebuilt

CALL_TIMEOUT = 10.0  # seconds a page waits for the table before it says the cluster cannot be reached
FIRST_TIMEOUT = 60.0  # the first call also starts the table's process (seconds on a busy machine)
OBJECT_STORE_MB = 100  # a local Ray's shared memory: only state dicts and records travel through it
log = logging.getLogger(__name__)
_CONNECT = threading.Lock()


def loopback(address: str) -> bool:
    """A Ray on this machine only (local, 127.0.0.1 or localhost)."""
    return address == "local" or address.split(":")[0] in ("127.0.0.1", "localhost")


def connect(address: str, cpus: int) -> None:
    """Join the Ray cluster at address, or start a small local one ("local"); once per process."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address == "local" and not {"RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"} & set(os.environ):
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)  # this Ray's own token (else one lands in ~/.ray)
    if loopback(address):  # Ray otherwise swaps 127.0.0.1 for this machine's network address and listens on it
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray
    from ray._private import ray_constants

    from runtime.ray_table import NAMESPACE

    if loopback(address):  # Ray reads that variable when it is first imported, which may have been before this
        ray_constants.ENABLE_RAY_CLUSTER = os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] not in ("0", "false")

    if ray.is_initialized():
        return
    common = dict(namespace=NAMESPACE, log_to_driver=False, configure_logging=False, include_dashboard=False)
    if address == "local":
        common.update(num_cpus=cpus, object_store_memory=OBJECT_STORE_MB * 2**20, _node_ip_address="127.0.0.1")
    else:
        common.update(address=address)
    started, failure = threading.Event(), []

    def owner() -> None:
        """ray.init in a thread that lives as long as the process: a local Ray's processes are killed when the
        thread that started them ends (PR_SET_PDEATHSIG), and Streamlit's script threads end after every rerun."""
        try:
            ray.init(**common)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            failure.append(exc)
            return
        finally:
            started.set()
        threading.Event().wait()

    threading.Thread(target=owner, daemon=True, name="ray-owner").start()
    started.wait()
    if failure:
        raise failure[0]


@dataclass(eq=False)
class RemoteJob(Job):
    """A run of the table as this replica last saw it."""

    run: int = 0  # the table's attempt number for this key
    position: int = 0  # place in the queue

    def cancel(self) -> None:  # the table cancels; this copy only follows (see RayJobManager.cancel)
        with self.lock:
            if self.status in ("queued", "running"):
                self.status = "cancelled"


def _error(problem: tuple | None) -> LabError | None:
    return None if problem is None else rebuilt(*problem)


class RayJobManager(JobManager):
    """JobManager for replicas that share one Ray cluster."""

    def __init__(self, data: DataSource, store: CheckpointStore | None, address: str = "local", slots: int = 2,
                 threads: int = 1, device: str = "auto", mnist_dir: str | None = None) -> None:
        super().__init__(data, slots, store, pool=None)
        self.address, self.slots, self.threads, self.device, self.mnist_dir = address, slots, threads, device, mnist_dir
        self.folder = str(store.folder) if store is not None else ""
        self._table = None
        self.ready = False  # a call has succeeded since the table was (re)created
        self.down: LabError | None = None  # set while the cluster cannot be reached
        threading.Thread(target=self._warm_up, daemon=True, name="ray-connect").start()

    def _warm_up(self) -> None:
        """Join the cluster in the background at start-up (about a second), so the first page does not wait."""
        try:
            self.call("stats")
        except LabError:
            pass  # `warning` says so; the next call tries again

    # -- the table --------------------------------------------------------------------------------------------
    def table(self):
        """The cluster's job table (created by the first replica that asks, with its slots, threads and device)."""
        with _CONNECT:
            if self._table is None:
                connect(self.address, self.slots * self.threads)
                from runtime.ray_table import NAMESPACE, TABLE, JobTable

                self._table = JobTable.options(name=TABLE, namespace=NAMESPACE, lifetime="detached",
                                               get_if_exists=True).remote(self.slots, self.threads, self.device)
            return self._table

    def call(self, method: str, *args):
        """One call to the table; LabError train.cluster_unreachable (remembered for `warning`) if it fails.
        A table found dead is made again once (its runs are lost; the saved ones are on disk)."""
        import ray

        try:
            try:
                result = self._ask(method, args)
            except ray.exceptions.RayActorError:
                self._table = None
                result = self._ask(method, args)
        except Exception as exc:  # noqa: BLE001 - connection refused, timeout, actor or head gone...
            log.warning("Ray job table unreachable (%s)", self.address, exc_info=True)
            self._table, self.ready = None, False
            self.down = LabError("train.cluster_unreachable", f"{type(exc).__name__}: {exc}")
            raise self.down from exc
        self.down, self.ready = None, True
        return result

    def _ask(self, method: str, args: tuple):
        import ray

        timeout = CALL_TIMEOUT if self.ready else FIRST_TIMEOUT
        return ray.get(getattr(self.table(), method).remote(*args), timeout=timeout)

    @property
    def warning(self) -> LabError | None:
        """The cluster cannot be reached, or checkpoints are not being saved."""
        return self.down or super().warning

    # -- runs -------------------------------------------------------------------------------------------------
    def _identity(self, config: TrainConfig) -> tuple[TrainConfig, str, str]:
        data = self.digits_for(config)
        fingerprint = self.fingerprint(data)
        config = config.normalized(len(data.train_labels))
        return config, fingerprint, run_key(config, fingerprint)

    def submit(self, config: TrainConfig) -> Job:
        """The run for this configuration: finished here or on disk, else the table's (queued if new)."""
        config, fingerprint, key = self._identity(config)
        with self.lock:
            job = self.jobs.get(config)
        if job is not None and job.status == "done":
            with job.lock:
                job.requests += 1
            return job
        stored = self._from_disk(config, key, fingerprint)
        if stored is not None:
            with self.lock:
                return self._adopt(stored)
        known = self.bad_files.pop((key, fingerprint), None)
        notice = None if known is None else (known[1].code, {k: str(v) for k, v in known[1].params.items()},
                                             str(known[1]))
        snap = self.call("submit", key, asdict(config), fingerprint, self.folder, self.mnist_dir, notice)
        return self._follow(config, snap)

    def view(self, config: TrainConfig) -> JobView | None:
        """A snapshot of the run: finished here, else the table's, else its checkpoint."""
        try:
            config, fingerprint, key = self._identity(config)
        except LabError:
            return None
        with self.lock:
            job = self.jobs.get(config)
        if job is not None and job.status == "done":
            return job.view()
        have = (job.run, len(job.losses), len(job.epochs), len(job.snapshots)) if isinstance(job, RemoteJob) \
            else (0, 0, 0, 0)
        try:
            snap = self.call("snapshot", key, *have)
        except LabError:
            snap = None  # `warning` says why; what is on disk still shows
        if snap is not None:
            try:
                job = self._follow(config, snap)
                return job.view(job.position)
            except LabError:
                pass
        stored = self._from_disk(config, key, fingerprint)
        if stored is None:
            return None
        with self.lock:
            return self._adopt(stored).view()

    def active(self) -> list[JobView]:
        """Every run queued or training in the cluster, in submission order (whichever replica started it)."""
        try:
            snaps = self.call("active")
        except LabError:
            return []
        return [self._copy(RemoteJob(TrainConfig(**s["config"]), key=s["key"]), s).view(s["position"]) for s in snaps]

    def cancel(self, config: TrainConfig) -> None:
        """Stop a run for every replica: the table takes it out of the queue or cancels its task."""
        try:
            config, _, key = self._identity(config)
        except LabError:
            return
        with self.lock:
            job = self.jobs.get(config)
        if job is not None:
            job.cancel()
        try:
            self.call("cancel", key)
        except LabError:
            pass  # `warning` tells the page

    def shutdown(self) -> None:
        """Leave the cluster; its runs go on for the other replicas."""
        import ray

        self._table = None
        if ray.is_initialized():
            ray.shutdown()

    # -- copies of the table's runs -------------------------------------------------------------------------
    def _follow(self, config: TrainConfig, snap: dict) -> Job:
        """Bring this replica's copy of a run up to date (its model fetched once, when it has finished)."""
        with self.lock:
            job = self.jobs.get(config)
            if not isinstance(job, RemoteJob) or job.key != snap["key"]:
                job = self.jobs[config] = RemoteJob(config, key=snap["key"])
        self._copy(job, snap)
        if snap["status"] == "done" and job.done is None:
            state = self.call("model", snap["key"], snap["run"]) if snap["model"] else None
            if state is None:  # the table let it go: it is on disk (or was not worth keeping)
                with self.lock:
                    self.jobs.pop(config, None)
                stored = self._from_disk(config, snap["key"], self.fingerprint(self.digits_for(config)))
                if stored is None:
                    return job
                with self.lock:
                    return self._adopt(stored)
            model = build_lenet(config.lenet, config.seed)
            model.load_state_dict(torch.load(io.BytesIO(state), weights_only=True))
            with job.lock:
                job.done = DoneRecord(model.eval(), *snap["done"])
                job.status, job.finished, job.stamp = "done", time.perf_counter(), time.time()
            self._trim()
        return job

    def _trim(self) -> None:
        """Keep at most MAX_FINISHED_IN_MEMORY idle runs here, as runtime.jobs does (the rest are on disk)."""
        with self.lock:
            idle = [j for j in self.jobs.values() if (j.status == "done" and j.saved) or j.status in RESTARTABLE]
            for old in sorted(idle, key=lambda j: j.finished)[: max(0, len(idle) - MAX_FINISHED_IN_MEMORY)]:
                del self.jobs[old.config]

    @staticmethod
    def _copy(job: RemoteJob, snap: dict) -> RemoteJob:
        """Copy a snapshot's fields into job. Curves come as the part after what the asker had: the part this copy
        lacks is appended (two sessions may ask at once); a new attempt of the run starts them afresh."""
        with job.lock:
            if snap["run"] != job.run:
                job.losses, job.epochs, job.snapshots, job.done = [], [], [], None
            epochs = [EpochRecord(*fields) for fields in snap["epochs"]]
            snaps, start = snap.get("snaps", []), snap.get("snaps_from", 0)
            if start <= len(job.snapshots) < start + len(snaps):  # decoded only once, only the ones this copy lacks
                try:
                    job.snapshots += [from_bytes(b) for b in snaps[len(job.snapshots) - start:]]
                except LabError as exc:
                    job.snapshot_problem = exc  # the curves still show; the replay says why it is missing
            for mine, new, start in ((job.losses, snap["losses"], snap["losses_from"]),
                                     (job.epochs, epochs, snap["epochs_from"])):
                if start <= len(mine):
                    mine += new[len(mine) - start:]
                else:  # a gap (cannot be filled from this answer): the next view asks from the start
                    mine.clear()
            job.run, job.position = snap["run"], snap["position"]
            job.status = "running" if snap["status"] == "done" and job.done is None else snap["status"]
            job.batches_per_epoch, job.steps_done = snap["batches_per_epoch"], snap["steps_done"]
            job.duration, job.requests, job.saved = snap["elapsed"], snap["requests"], snap["saved"]
            job.failure, job.save_problem = _error(snap["failure"]), _error(snap["save_problem"])
            job.notice, job.error = _error(snap["notice"]), snap["error"]
        return job
