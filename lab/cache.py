"""Server-wide caches: data and models shared by every session (read-only!)."""
from __future__ import annotations

import gc
import threading

import pandas  # noqa: F401  see below
import streamlit as st
import torch

# Plotly looks pandas up in sys.modules without the import lock: on a fresh server, pages started at once by several
# students saw it half-imported ("partially initialized module 'pandas' has no attribute 'Series'"). Importing it
# here, before any page runs, makes every session wait for the whole module instead.

from core.activations import StackGradients, deep_stack, stack_gradients as measure_stack
from core.data import Digits, load_digits, to_model_input
from core.lenet import LeNet5, LeNetConfig, build_lenet
from lab import settings


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
    from lab import jobs  # jobs imports this module

    jobs.manager()  # start the training processes now: they take a few seconds to import torch
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
    from lab import jobs  # jobs imports this module

    out: dict[str, LeNet5] = {}
    for view in jobs.manager().trained(jobs.fingerprints(), limit):
        label = jobs.run_label(view.config)
        out[label if label not in out else f"{label} #{view.key[:4]}"] = view.done.model
    return out


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
