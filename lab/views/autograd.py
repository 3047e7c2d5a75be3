"""Drawing of the autograd page (shell): the backward graph as Graphviz DOT, the gradients and their piling up (plain
figure dicts)."""
from __future__ import annotations

import torch

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


def grads_figure(grads: dict[str, torch.Tensor]) -> dict:
    """w.grad, b.grad (and x.grad when x needs one) as pictures of their values, a vector as one column: the numbers
    are written in the cells, so the panels hide their axes."""
    names = [n for n in ("w", "b", "x") if n in grads]
    widths = [3, 1.2, 1.2][: len(names)]
    gap, total = 0.06, sum(widths)
    free = 1 - gap * (len(names) - 1)
    data, layout, left = [], {"height": 280, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "annotations": []}, 0.0
    picture = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": ""}
    for i, (n, w) in enumerate(zip(names, widths), start=1):
        suffix = str(i) if i > 1 else ""
        g = grads[n] if grads[n].dim() == 2 else grads[n].unsqueeze(1)  # (rows, cols)
        right = left + free * w / total
        data.append({"type": "heatmap", "z": [[float(f"{v:.8g}") for v in row] for row in g.tolist()],
                     "colorscale": "RdBu", "zmid": 0, "texttemplate": "%{z:.3f}", "showscale": False, "xaxis": f"x{suffix}",
                     "yaxis": f"y{suffix}", "hovertemplate": f"{n}.grad[%{{y}}, %{{x}}] = %{{z:.4f}}<extra></extra>"})
        layout[f"xaxis{suffix}"] = {"domain": [left, right], "anchor": f"y{suffix}", **picture}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "autorange": "reversed", **picture}
        layout["annotations"].append({"text": f"{n}.grad {list(grads[n].shape)}", "x": (left + right) / 2, "y": 1.0,
                                      "xref": "paper", "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                                      "showarrow": False, "font": {"size": 14}})
        left = right + gap
    return {"data": data, "layout": layout}


def piling_figure(calls: list[dict[str, torch.Tensor]]) -> dict:
    """b.grad after each backward() call, one group of bars per element: without zero_grad they pile up."""
    data = [{"type": "bar", "x": [f"b.grad[{j}]" for j in range(3)],
             "y": [float(f"{v:.8g}") for v in grads["b"].tolist()],
             "name": t("autograd.after_call", k=k + 1), "marker": {"color": CALL_COLORS[k % len(CALL_COLORS)]},
             "texttemplate": "%{y:.3f}"} for k, grads in enumerate(calls)]
    return {"data": data, "layout": {
        "barmode": "group", "height": 300, "margin": {"l": 10, "r": 10, "t": 20, "b": 10},
        "legend": {"orientation": "h", "y": -0.3}, "xaxis": {"title": {"text": t("autograd.piling_x")}},
        "yaxis": {"title": {"text": t("autograd.piling_y")}}}}
