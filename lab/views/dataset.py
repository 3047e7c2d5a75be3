"""Drawing of the Dataset / DataLoader page (shell): numbers in, plain figure dicts out (drawn with lab.figures.show),
no maths."""
from __future__ import annotations

from typing import Sequence

import torch

from core.dataset import GradientNoise
from lab.ui import t
from lab.views.image_tensor import tiles, value_grid


def sample_figure(x: torch.Tensor) -> dict:
    """One normalized sample (28, 28) as a grey grid on [-1, 1], without the numbers (too many to read)."""
    return value_grid(x, None, height=300, zrange=(-1.0, 1.0))


def digit_strip(images: torch.Tensor, captions: Sequence[str], columns: int = 16) -> dict:
    """Small grey digits (N, 28, 28) uint8 in one row of `columns` places, each with its label underneath."""
    return tiles(list(images[:columns]), list(captions[:columns]), (0.0, 255.0), height=78, font=12)


def noise_figure(noise: Sequence[GradientNoise], sizes: Sequence[int], theory: Sequence[float]) -> dict:
    """Gradient noise against batch size on log axes: every batch's deviation as a dot, their mean, and the
    sampling-theory curve."""
    dots_x = [g.batch_size for g in noise for _ in g.deviations]
    dots_y = [d for g in noise for d in g.deviations]
    data = [dict(type="scatter", x=dots_x, y=dots_y, mode="markers", showlegend=False,
                 marker=dict(color="#4c78a8", opacity=0.35, size=7), hovertemplate="%{y:.3f}<extra></extra>"),
            dict(type="scatter", x=list(sizes), y=[g.mean for g in noise], mode="lines+markers",
                 name=t("dataset.noise_mean"), line=dict(color="#4c78a8", width=3)),
            dict(type="scatter", x=list(sizes), y=list(theory), mode="lines", name=t("dataset.noise_theory"),
                 line=dict(color="#f58518", dash="dash"))]
    return {"data": data, "layout": dict(
        height=380, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=-0.25),
        xaxis=dict(type="log", tickvals=list(sizes), title=dict(text=t("dataset.batch"))),
        yaxis=dict(type="log", title=dict(text=t("dataset.noise_axis"))))}
