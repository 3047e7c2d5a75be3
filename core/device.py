"""Where training runs: LENET_DEVICE ("auto", "cpu", "cuda", "cuda:N") resolved against what torch sees."""
from __future__ import annotations

import re
from typing import Callable

import torch

from core.errors import LabError

NAME = re.compile(r"auto|cpu|cuda(:\d+)?")


def resolve_device(name: str, cuda_count: Callable[[], int] | None = None) -> torch.device:
    """"auto" is CUDA when torch sees a GPU, else the CPU; "cuda[:N]" must exist (LabError train.no_cuda if not).
    cuda_count defaults to torch's own count (tests pass a stand-in)."""
    name = name.strip().lower() or "auto"
    if not NAME.fullmatch(name):
        raise LabError("train.bad_device", name=name)
    if name == "cpu":
        return torch.device("cpu")
    count = (cuda_count or _cuda_count)()
    if name == "auto":
        return torch.device("cuda" if count else "cpu")
    device = torch.device(name)
    if (device.index or 0) >= count:
        raise LabError("train.no_cuda", name=name, count=count)
    return device


def _cuda_count() -> int:
    """GPUs torch can use here (0 on a CPU-only build or machine)."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0
