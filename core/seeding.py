"""Seeded blocks on torch's global random generator, safe when several sessions of one server run at once."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import torch

# Streamlit runs each session's script in its own thread, and nn.Module initialisation can only draw from torch's
# one global generator: without this lock, two students building seeded models at the same moment could interleave
# their draws and each get weights of neither seed. Re-entrant, so a seeded block may call another.
_LOCK = threading.RLock()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """torch.manual_seed(seed) for the block, one block at a time; the global generator is restored after it."""
    with _LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
