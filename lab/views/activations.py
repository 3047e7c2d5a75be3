"""Drawing of the activation-functions page (shell): f and f' with their saturation bands, a feature map before and
after the activation, gradient norms through a deep stack, and the share of dead ReLUs."""
from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from core.activations import NAMES, ActivationValues, StackGradients
from lab.ui import t

COLORS = dict(zip(NAMES, ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#9d755d"]))


def functions_figure(curves: list[tuple[str, ActivationValues, list[tuple[float, float]]]]) -> go.Figure:
    """f(x) solid and f'(x) dotted for each (name, values, saturated ranges), the saturated ranges shaded."""
    fig = go.Figure()
    for name, v, bands in curves:
        label = t(f"act.name_{name}")
        fig.add_scatter(x=v.x.numpy(), y=v.y.numpy(), name=f"{label}  f(x)", line=dict(color=COLORS[name]))
        fig.add_scatter(x=v.x.numpy(), y=v.dy.numpy(), name=f"{label}  f'(x)", line=dict(color=COLORS[name], dash="dot"))
        for lo, hi in bands:
            fig.add_vrect(x0=lo, x1=hi, fillcolor=COLORS[name], opacity=0.08, line_width=0)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="x",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return fig


def feature_map_figure(pre: torch.Tensor, post: torch.Tensor, channel: int, act: str) -> go.Figure:
    """One channel (1-based) of conv1's maps (C, H, W) before and after the activation on one colour scale, and the
    histogram of every value before and after."""
    fig = make_subplots(rows=1, cols=3, column_widths=[0.25, 0.25, 0.5], horizontal_spacing=0.08,
                        subplot_titles=[t("act.before"), t("act.after", name=t(f"act.name_{act}")), t("act.hist")])
    reach = float(pre.abs().max()) or 1.0  # one colour scale for both maps
    for col, z in ((1, pre[channel - 1]), (2, post[channel - 1])):
        fig.add_heatmap(z=z.numpy(), colorscale="RdBu", zmin=-reach, zmax=reach, showscale=col == 2, row=1, col=col,
                        colorbar=dict(x=0.51, xanchor="left", thickness=10, len=0.9))
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", showticklabels=False, row=1,
                         col=col)
        fig.update_xaxes(showticklabels=False, row=1, col=col)
    fig.add_histogram(x=pre.flatten().numpy(), name=t("act.before"), opacity=0.6, nbinsx=60, row=1, col=3,
                      marker_color="#4c78a8")
    fig.add_histogram(x=post.flatten().numpy(), name=t("act.after_short"), opacity=0.6, nbinsx=60, row=1, col=3,
                      marker_color="#f58518")
    fig.update_layout(barmode="overlay", height=300, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"))
    return fig


def vanishing_figure(results: dict[str, StackGradients], depth: int) -> go.Figure:
    """The weight-gradient norm of every layer of a deep stack, one line per activation, on a log axis."""
    fig = go.Figure()
    for n, r in results.items():
        fig.add_scatter(x=list(range(1, depth + 1)), y=r.weight_grad_norm.numpy(), name=t(f"act.name_{n}"),
                        mode="lines+markers", line=dict(color=COLORS[n]))
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10), yaxis=dict(type="log", exponentformat="e"),
                      legend=dict(orientation="h"), xaxis_title=t("act.layer_axis"), yaxis_title=t("act.grad_axis"))
    return fig


def dead_figure(dead: dict[str, float]) -> go.Figure:
    """The share of dead ReLU units in each layer, as bars."""
    fig = go.Figure(go.Bar(x=[t(f"act.layer_{k}") for k in dead], y=list(dead.values()), marker_color="#e45756",
                           text=[f"{v:.1%}" for v in dead.values()], textposition="outside",
                           cliponaxis=False))
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10), yaxis=dict(range=[0, 1.08], tickformat=".0%"))
    return fig
