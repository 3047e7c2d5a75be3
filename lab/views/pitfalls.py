"""Drawing of the pitfalls lab (shell): the probes' curves. The runs themselves are drawn by lab/runs.py."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

MARGIN = dict(l=10, r=10, t=40, b=10)


def lines(series: dict[str, Sequence[float]], colors: Sequence[str], x_title: str, y_title: str,
          x: Sequence[float] | None = None, height: int = 320, log_y: bool = False, dashes: Sequence[str] | None = None) -> go.Figure:
    """A few named lines over the same x (1, 2, 3... when x is None)."""
    fig = go.Figure()
    for i, (name, ys) in enumerate(series.items()):
        xs = list(x) if x is not None else list(range(1, len(ys) + 1))
        fig.add_trace(go.Scatter(x=xs, y=list(ys), name=name, mode="lines+markers",
                                 line=dict(color=colors[i % len(colors)], dash=(dashes[i] if dashes else "solid"))))
    fig.update_layout(height=height, margin=MARGIN, xaxis_title=x_title, yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.25), yaxis_type="log" if log_y else None)
    return fig
