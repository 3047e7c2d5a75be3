"""Drawing of the Dataset / DataLoader page (shell): numbers in, figures out, no maths."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from core.dataset import GradientNoise
from lab.ui import t
from lab.views.image_tensor import value_grid


def sample_figure(x: torch.Tensor) -> go.Figure:
    """One normalized sample (28, 28) as a grey grid on [-1, 1], without the numbers (too many to read)."""
    return value_grid(x, 1, height=330, zrange=(-1.0, 1.0)).update_traces(texttemplate=None)


def digit_strip(images: torch.Tensor, captions: Sequence[str], columns: int = 16, cell: int = 62) -> go.Figure:
    """Small grey digits (N, 28, 28) in rows of `columns`, each with a caption underneath."""
    n = len(images)
    rows = max(1, -(-n // columns))
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=None, horizontal_spacing=0.005, vertical_spacing=0.03)
    for i in range(n):
        r, c = divmod(i, columns)
        fig.add_trace(go.Heatmap(z=images[i].double().numpy(), colorscale="gray", showscale=False, hoverinfo="skip"),
                      r + 1, c + 1)
        fig.update_xaxes(title_text=captions[i], title_standoff=0, row=r + 1, col=c + 1)
    fig.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor="x", constrain="domain", ticks="",
                     showgrid=False, zeroline=False)
    fig.update_xaxes(showticklabels=False, constrain="domain", ticks="", showgrid=False, zeroline=False)
    fig.update_layout(height=rows * (cell + 22) + 20, margin=dict(l=5, r=5, t=5, b=5))
    return fig


def noise_figure(noise: Sequence[GradientNoise], sizes: Sequence[int], theory: Sequence[float]) -> go.Figure:
    """Gradient noise against batch size on log axes: every batch's deviation as a dot, their mean, and the
    sampling-theory curve."""
    fig = go.Figure()
    for g in noise:
        fig.add_trace(go.Scatter(x=[g.batch_size] * len(g.deviations), y=g.deviations, mode="markers", showlegend=False,
                                 marker=dict(color="#4c78a8", opacity=0.35, size=7),
                                 hovertemplate="%{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=list(sizes), y=[g.mean for g in noise], mode="lines+markers",
                             name=t("dataset.noise_mean"), line=dict(color="#4c78a8", width=3)))
    fig.add_trace(go.Scatter(x=list(sizes), y=theory, mode="lines", name=t("dataset.noise_theory"),
                             line=dict(color="#f58518", dash="dash")))
    fig.update_xaxes(type="log", tickvals=list(sizes), title_text=t("dataset.batch"))
    fig.update_yaxes(type="log", title_text=t("dataset.noise_axis"))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=-0.25))
    return fig
