"""Drawing of the autograd page (shell): the backward graph as Graphviz DOT, the gradients, their piling up."""
from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from core.autograd import Graph
from lab.ui import t

CALL_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac", "#eeca3b")


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


def grads_figure(grads: dict[str, torch.Tensor]) -> go.Figure:
    """w.grad, b.grad (and x.grad when x needs one) as annotated heatmaps, a vector as one column."""
    names = [n for n in ("w", "b", "x") if n in grads]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[f"{n}.grad {list(grads[n].shape)}" for n in names],
                        column_widths=[3, 1.2, 1.2][: len(names)])
    for i, n in enumerate(names, start=1):
        g = grads[n] if grads[n].dim() == 2 else grads[n].unsqueeze(1)
        fig.add_trace(go.Heatmap(z=g.numpy(), colorscale="RdBu", zmid=0, texttemplate="%{z:.3f}", showscale=False), 1, i)
    fig.update_yaxes(autorange="reversed", dtick=1)
    fig.update_xaxes(dtick=1)
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def piling_figure(calls: list[dict[str, torch.Tensor]]) -> go.Figure:
    """b.grad after each backward() call, one group of bars per element: without zero_grad they pile up."""
    bars = go.Figure()
    for k, grads in enumerate(calls):
        bars.add_trace(go.Bar(x=[f"b.grad[{j}]" for j in range(3)], y=grads["b"].numpy(),
                              name=t("autograd.after_call", k=k + 1), marker_color=CALL_COLORS[k % len(CALL_COLORS)],
                              texttemplate="%{y:.3f}"))
    bars.update_layout(barmode="group", height=300, margin=dict(l=10, r=10, t=20, b=10),
                       legend=dict(orientation="h", y=-0.2))
    return bars
