"""Drawing of the train() vs eval() page (shell): the logits of repeated calls in both modes, and batch norm's running
statistics moving during forward passes."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.train_eval import MODES, ModeRun, StatsTrace
from lab.ui import t

CALL_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac", "#eeca3b")
CHANNEL_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756")


def modes_figure(runs: dict[str, ModeRun]) -> go.Figure:
    """The ten logits of every repeated call, train() on the left and eval() on the right, one colour per call."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[t(f"train_eval.mode_{m}", spread=f"{runs[m].spread:.3f}")
                                                        for m in MODES],
                        shared_yaxes=True, horizontal_spacing=0.05)
    for col, mode in enumerate(MODES, start=1):
        for k, logits in enumerate(runs[mode].logits):
            fig.add_trace(go.Scatter(x=list(range(10)), y=logits.numpy(), mode="lines+markers",
                                     name=t("train_eval.call", k=k + 1), line=dict(color=CALL_COLORS[k]),
                                     legendgroup=str(k), showlegend=col == 1), 1, col)
    fig.update_xaxes(title_text=t("train_eval.class_axis"), dtick=1)
    fig.update_yaxes(title_text=t("train_eval.logit_axis"), row=1, col=1)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def running_stats_figure(trace: StatsTrace, steps: int, eval_steps: int) -> go.Figure:
    """Batch norm's running mean of four channels after each call (lines) beside each training batch's own mean
    (dots); the eval() calls shaded."""
    fig = go.Figure()
    calls = list(range(len(trace.running_mean)))
    for c in range(4):
        color = CHANNEL_COLORS[c]
        fig.add_trace(go.Scatter(x=calls, y=trace.running_mean[:, c].numpy(), mode="lines", line=dict(color=color),
                                 name=t("train_eval.running", c=c)))
        fig.add_trace(go.Scatter(x=list(range(1, steps + 1)), y=trace.batch_mean[:, c].numpy(), mode="markers",
                                 marker=dict(color=color, size=5, opacity=0.5), name=t("train_eval.batch_mean", c=c)))
    fig.add_vrect(x0=steps, x1=steps + eval_steps, fillcolor="grey", opacity=0.12, line_width=0,
                  annotation_text="model.eval()", annotation_position="top left")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=t("train_eval.calls_axis"),
                      yaxis_title=t("train_eval.mean_axis"), legend=dict(orientation="h", y=-0.25))
    return fig
