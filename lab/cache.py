"""Server-wide caches: data, models and the job manager shared by every session (read-only!)."""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterator

import streamlit as st
import torch

from core.activations import StackGradients, deep_stack, stack_gradients as measure_stack
from core.data import Digits, load_digits, to_model_input
from core.errors import LabError
from core.lenet import LeNet5, LeNetConfig, build_lenet
from runtime.checkpoints import CheckpointStore
from runtime.jobs import JobManager, labelled_models
from runtime.settings import SETTINGS, Settings
from runtime.workers import WorkerPool

_IN_FORCE: list[Settings] = [SETTINGS]  # the settings the caches below use; the last one wins (see use_settings)


def settings() -> Settings:
    """The settings in force: SETTINGS, read from the environment at start, unless a test chose others."""
    return _IN_FORCE[-1]


@contextmanager
def use_settings(**changes: object) -> Iterator[Settings]:
    """Run with some settings changed (tests: a checkpoint folder of their own, a fake MNIST folder). A job manager
    made for them is shut down at the end; the server's own is left as it was."""
    changed = replace(settings(), **changes)
    _IN_FORCE.append(changed)
    try:
        yield changed
    finally:
        _IN_FORCE.remove(changed)
        if _manager_key(changed) != _manager_key(settings()):
            _manager.clear(*_manager_key(changed))  # its on_release stops its runs and training processes


def _warm_up() -> None:
    """Pay start-up costs once, in the background: the first torch.optim optimizer imports torch._dynamo (about
    1.5 s); then freeze the garbage collector's view of everything imported so far. Streamlit runs gc.collect()
    after every rerun, and scanning the ~250,000 objects of torch, plotly and Streamlit took about 0.25 s of each
    rerun here; frozen objects are skipped (new garbage is still collected)."""
    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    import plotly.graph_objects  # noqa: F401  every page draws with them
    import plotly.subplots  # noqa: F401

    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False)
def _configure_torch() -> int:
    """Set torch's intra-op thread pool once for the whole server (and warm torch.optim up in the background)."""
    torch.set_num_threads(settings().threads)
    threading.Thread(target=_warm_up, daemon=True, name="torch-warm-up").start()
    manager()  # start the training processes now: they take a few seconds to import torch
    return settings().threads


def configure_torch() -> int:
    """Called by app.py on every run; the work happens once."""
    return _configure_torch()


@st.cache_resource(show_spinner=False)
def digits(mnist_dir: str | None = SETTINGS.mnist_dir) -> Digits:
    """The digits every page uses (full MNIST if LENET_MNIST_DIR points at it). Never mutate."""
    return load_digits(mnist_dir)


@st.cache_resource(show_spinner=False)
def untrained_lenet(config: LeNetConfig = LeNetConfig(), seed: int = 0) -> LeNet5:
    """A seeded, untrained LeNet-5 in eval mode, for showing shapes and random filters. Never train it."""
    return build_lenet(config, seed).eval()


def embedded_digits() -> Digits:
    """The 5,000 embedded digits, whatever LENET_MNIST_DIR says (the same object as digits() when it is unset)."""
    return digits() if not SETTINGS.mnist_dir else digits(None)


def mnist_available() -> bool:
    """Full MNIST was configured (LENET_MNIST_DIR) and could be read."""
    mnist_dir = settings().mnist_dir
    return bool(mnist_dir) and digits(mnist_dir).source == "mnist"


def trained_models(limit: int = 8) -> dict[str, LeNet5]:
    """Label -> trained LeNet-5 (eval mode) of the newest finished runs, in memory or on disk. Never train them.

    A run still training is never included: only runs whose worker has finished (finished or early-stopped).
    """
    return labelled_models(manager().trained(fingerprints(), limit))


def dataset(name: str) -> Digits:
    """TrainConfig.dataset -> the digits (LabError when full MNIST is asked for but not available)."""
    if name == "mnist":
        if not mnist_available():
            raise LabError("train.no_mnist")
        return digits(settings().mnist_dir)
    return embedded_digits()


def fingerprints() -> list[str]:
    """Fingerprints of the datasets this server has, for finding checkpoints by key."""
    mgr = manager()
    names = ["embedded"] + (["mnist"] if mnist_available() else [])
    return [mgr.fingerprint(dataset(n)) for n in names]


def manager() -> JobManager:
    """The one job manager of this server: max_jobs training processes, checkpoints under cache_dir."""
    return _manager(*_manager_key(settings()))


def _manager_key(s: Settings) -> tuple[str, int, int]:
    """The settings a job manager is made of (one manager per checkpoint folder and limits)."""
    return str(s.cache_dir), s.max_jobs, s.train_threads


@st.cache_resource(show_spinner=False, on_release=lambda mgr: mgr.shutdown())
def _manager(cache_dir: str, max_jobs: int, train_threads: int) -> JobManager:
    """A job manager of max_jobs training processes saving into cache_dir (shut down when cleared)."""
    return JobManager(data=dataset, max_parallel=max_jobs, store=CheckpointStore(cache_dir),
                      pool=WorkerPool(max_jobs, train_threads))


@st.cache_data(show_spinner=False, max_entries=128)
def stack_gradients(name: str, depth: int, init: str, batch: int = 64) -> StackGradients:
    """The activations page's deep-stack experiment on the first `batch` test digits, keyed on plain settings."""
    data = digits()
    x = to_model_input(data.test_images[:batch]).flatten(1)  # (batch, 784)
    return measure_stack(deep_stack(name, depth, init=init), x, data.test_labels[:batch])


@st.cache_data(show_spinner=False, max_entries=256)
def dead_units(model_key: str, bias_shift: float, _model: LeNet5, batch: int = 256) -> dict[str, float]:
    """The activations page's dead-ReLU shares on the first `batch` test digits, keyed on a model key and the shift."""
    from core.activations import lenet_dead_fraction

    return lenet_dead_fraction(_model, to_model_input(digits().test_images[:batch]), bias_shift=bias_shift)
