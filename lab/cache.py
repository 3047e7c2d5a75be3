"""Server-wide caches: data and models shared by every session (read-only!)."""
from __future__ import annotations

import streamlit as st
import torch

from core.data import Digits, load_digits
from core.lenet import LeNet5, LeNetConfig, build_lenet
from lab import settings


@st.cache_resource(show_spinner=False)
def _configure_torch() -> int:
    """Set torch's intra-op thread pool once for the whole server."""
    torch.set_num_threads(settings.THREADS)
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
