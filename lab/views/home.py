"""Drawing of the home page (shell): the whole LeNet-5 pipeline of one forward pass, map by map."""
from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from lab.ui import t

MAPS = ("input", "conv1", "pool1", "conv2", "pool2")  # drawn as pictures; the logits as bars


def pipeline_figure(outs: dict[str, torch.Tensor]) -> go.Figure:
    """The first channel of every map (input, conv1, pool1, conv2, pool2) and the ten logits, left to right."""
    names = {"input": t("home.map_input")}
    titles = [f"{names.get(n, n)} {list(outs[n].shape[1:])}" for n in MAPS] + [f"{t('home.map_logits')} [10]"]
    fig = make_subplots(rows=1, cols=len(MAPS) + 1, subplot_titles=titles, horizontal_spacing=0.03)
    for col, name in enumerate(MAPS, start=1):
        fig.add_trace(go.Heatmap(z=outs[name][0, 0].detach().numpy(), colorscale="gray", showscale=False), 1, col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", showticklabels=False, row=1,
                         col=col)
    logits = outs["fc3"][0].detach()
    fig.add_trace(go.Bar(x=[str(i) for i in range(10)], y=logits.numpy(), marker_color="#4c78a8"), 1, len(MAPS) + 1)
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=10), showlegend=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_xaxes(showticklabels=True, row=1, col=len(MAPS) + 1)
    return fig
