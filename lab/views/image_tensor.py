"""Drawing of the image-to-tensor page (shell): numbers in, figures out, no maths. value_grid is the dataset page's
too."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from core.augment import Augmented
from core.image_tensor import Histogram
from lab.ui import t

MARGIN = dict(l=10, r=10, t=40, b=10)
STAGE_COLORS = ("#7f7f7f", "#4c78a8", "#f58518")  # stored 0-255, ToTensor, Normalize


def value_grid(values: torch.Tensor, decimals: int, height: int = 620, colorscale: str = "gray",
               zrange: tuple[float, float] | None = None) -> go.Figure:
    """A 2-D tensor as a heatmap with every value written in its cell (row 0 at the top)."""
    z = values.detach().double().numpy()
    lo, hi = zrange if zrange else (float(z.min()), float(z.max()))
    fig = go.Figure(go.Heatmap(z=z, zmin=lo, zmax=hi, colorscale=colorscale, showscale=True,
                               texttemplate=f"%{{z:.{decimals}f}}", textfont=dict(size=8),
                               hovertemplate=t("app.hover_cell") + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_xaxes(constrain="domain", side="top")
    fig.update_layout(height=height, margin=MARGIN)
    return fig


def histograms(hists: Sequence[Histogram], titles: Sequence[str], colors: Sequence[str], y_title: str) -> go.Figure:
    """One bar chart of counts per histogram, side by side."""
    fig = make_subplots(rows=1, cols=len(hists), subplot_titles=list(titles), horizontal_spacing=0.06)
    for i, (h, color) in enumerate(zip(hists, colors), start=1):
        edges = h.edges.numpy()
        centers, widths = (edges[:-1] + edges[1:]) / 2, edges[1:] - edges[:-1]
        fig.add_trace(go.Bar(x=centers, y=h.counts.numpy(), width=widths, marker_color=color, showlegend=False,
                             hovertemplate="%{x:.3g}: %{y}<extra></extra>"), 1, i)
    fig.update_yaxes(title_text=y_title, type="log", row=1, col=1)
    fig.update_yaxes(type="log")
    fig.update_layout(height=260, margin=MARGIN, bargap=0.05)
    return fig


def channels_figure(small: torch.Tensor, h: int, w: int, row: int, col: int) -> go.Figure:
    """A (3, h', w') preview of an h x w picture: the picture and its R, G, B channels, pixel (row, col) framed in each."""
    scale_y, scale_x = small.shape[1] / h, small.shape[2] / w
    fig = make_subplots(rows=1, cols=4, subplot_titles=[t("image_tensor.picture")] +
                        [t("image_tensor.channel", c=c, name=n) for c, n in enumerate("RGB")], horizontal_spacing=0.03)
    fig.add_trace(go.Image(z=(small.permute(1, 2, 0) * 255).round().byte().numpy()), 1, 1)
    for c, scale in enumerate(("Reds", "Greens", "Blues")):
        fig.add_trace(go.Heatmap(z=small[c].numpy(), colorscale=scale, zmin=0, zmax=1, showscale=False), 1, c + 2)
    for c in range(4):
        fig.add_trace(go.Scatter(x=[(col + 0.5) * scale_x - 0.5], y=[(row + 0.5) * scale_y - 0.5], mode="markers",
                                 marker=dict(symbol="square-open", size=14, color="black", line=dict(width=2)),
                                 showlegend=False, hoverinfo="skip"), 1, c + 1)
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def augmented_figure(aug: Augmented) -> go.Figure:
    """The digit and its augmented copies in a row, each titled with its drawn angle, shift and scale."""
    titles = [t("image_tensor.aug_original")] + [f"{a:+.1f}° ({dx:+d}, {dy:+d}) ×{z:.2f}"
                                                 for a, (dx, dy), z in zip(aug.angles, aug.shifts, aug.scales)]
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.01)
    for i, img in enumerate([aug.original, *aug.variants], start=1):
        fig.add_trace(go.Heatmap(z=img.numpy(), colorscale="gray", zmin=0, zmax=1, showscale=False, hoverinfo="skip"),
                      1, i)
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_annotations(font_size=10)
    fig.update_layout(height=190, margin=dict(l=5, r=5, t=30, b=5))
    return fig
