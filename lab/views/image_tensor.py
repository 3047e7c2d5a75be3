"""Drawing of the image-to-tensor page (shell): numbers in, figures out, no maths. value_grid is the dataset page's
too."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from core.image_tensor import Histogram
from lab.ui import t

MARGIN = dict(l=10, r=10, t=40, b=10)


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
