"""Server-wide caches: data, models and the job manager shared by every session (read-only!)."""
from __future__ import annotations

import gc
import threading
import streamlit as st
import torch

from core.activations import StackGradients, deep_stack, stack_gradients as measure_stack
from core.data import Digits, load_digits, to_model_input
from core.errors import LabError
from core.lenet import LeNet5, LeNetConfig, build_lenet
from runtime import settings
from runtime.checkpoints import CheckpointStore
from runtime.jobs import JobManager, labelled_models
from runtime.workers import WorkerPool


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
    torch.set_num_threads(settings.THREADS)
    threading.Thread(target=_warm_up, daemon=True, name="torch-warm-up").start()
    manager()  # start the training processes now: they take a few seconds to import torch
    return settings.THREADS


def configure_torch() -> int:
    """Called by app.py on every run; the work happens once."""
    return _configure_torch()


@st.cache_resource(show_spinner=False)
def digits(mnist_dir: str | None = settings.MNIST_DIR) -> Digits:
    """The digits every page uses (full MNIST if LENET_MNIST_DIR points at it). Never mutate."""
    return load_digits(mnist_dir)


@st.cache_resource(show_spinner=False)
def untrained_lenet(config: LeNetConfig = LeNetConfig(), seed: int = 0) -> LeNet5:
    """A seeded, untrained LeNet-5 in eval mode, for showing shapes and random filters. Never train it."""
    return build_lenet(config, seed).eval()


def embedded_digits() -> Digits:
    """The 5,000 embedded digits, whatever LENET_MNIST_DIR says (the same object as digits() when it is unset)."""
    return digits() if not settings.MNIST_DIR else digits(None)


def mnist_available() -> bool:
    """Full MNIST was configured (LENET_MNIST_DIR) and could be read."""
    return bool(settings.MNIST_DIR) and digits(settings.MNIST_DIR).source == "mnist"


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
        return digits(settings.MNIST_DIR)
    return embedded_digits()


def fingerprints() -> list[str]:
    """Fingerprints of the datasets this server has, for finding checkpoints by key."""
    mgr = manager()
    names = ["embedded"] + (["mnist"] if mnist_available() else [])
    return [mgr.fingerprint(dataset(n)) for n in names]


@st.cache_resource(show_spinner=False, on_release=lambda mgr: mgr.shutdown())
def manager() -> JobManager:
    """The one job manager of this server: MAX_JOBS training processes, checkpoints under CACHE_DIR."""
    return JobManager(dataset, settings.MAX_JOBS, CheckpointStore(settings.CACHE_DIR),
                      WorkerPool(settings.MAX_JOBS, settings.TRAIN_THREADS))


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
