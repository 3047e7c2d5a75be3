"""Drawing of the Dataset / DataLoader page (shell): numbers in, figures out, no maths."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots


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
