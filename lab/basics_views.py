"""Plotly drawings shared by the basics and training-mechanics pages (shell): numbers in, figures out, no maths."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from core.autograd import Graph
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


def autograd_dot(graph: Graph, grads: dict[str, torch.Tensor], no_grad_label: str) -> str:
    """Graphviz DOT of a backward graph: the loss on top, grad_fn nodes as ellipses, leaves (AccumulateGrad) as boxes
    with their .grad, and a dashed stub for every input that needs no gradient."""
    out = ['digraph G {', 'rankdir=TB; bgcolor="transparent"; node [fontname="Helvetica", fontsize=11];',
           'edge [color="#888888", arrowsize=0.7];']
    for node in graph.nodes:
        tensor = f"\\n{node.tensor} {list(node.shape)}" if node.tensor else ""
        if node.op == "AccumulateGrad":
            grad = grads.get(node.tensor or "")
            values = "" if grad is None else "\\n.grad " + str([round(v, 3) for v in grad.flatten()[:3].tolist()]) + \
                ("…" if grad.numel() > 3 else "")
            out.append(f'n{node.id} [shape=box, style="rounded,filled", fillcolor="#d9f2d0", label="{node.op}{tensor}{values}"];')
        else:
            out.append(f'n{node.id} [shape=ellipse, style=filled, fillcolor="#dbe9f6", label="{node.op}{tensor}"];')
        for k in range(node.untracked):
            out.append(f'u{node.id}_{k} [shape=plaintext, fontcolor="#999999", label="{no_grad_label}"];')
            out.append(f'n{node.id} -> u{node.id}_{k} [style=dashed, color="#cccccc", arrowhead=none];')
    out += [f"n{a} -> n{b};" for a, b in graph.edges]
    return "\n".join(out + ["}"])
