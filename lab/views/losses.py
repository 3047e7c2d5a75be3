"""Drawing of the softmax / cross-entropy page (shell): the logits, exponentials and probabilities as bars, and
cross-entropy against MSE as the true class's logit moves."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.losses import LossSweep, SoftmaxBreakdown
from lab.ui import t


def listed(values) -> str:
    """A short list of numbers for the written-out arithmetic."""
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"


def softmax_figure(sm: SoftmaxBreakdown, target: int) -> go.Figure:
    """Scaled logits, their exponentials and the probabilities side by side, the true class in red."""
    classes = [str(i) for i in range(sm.logits.numel())]
    colors = ["#e45756" if i == target else "#4c78a8" for i in range(len(classes))]
    fig = make_subplots(rows=1, cols=3, subplot_titles=[t("sm.bar_logits"), t("sm.bar_exps"), t("sm.bar_probs")])
    for col, values in enumerate((sm.scaled, sm.exps, sm.probs), start=1):
        fig.add_bar(x=classes, y=values.tolist(), marker_color=colors, text=[f"{v:.3g}" for v in values.tolist()],
                    textposition="auto", row=1, col=col)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), showlegend=False)
    fig.update_yaxes(range=[0, 1], row=1, col=3)
    return fig


def mse_figure(sweep: LossSweep, now: float, target: int) -> go.Figure:
    """Both losses (left) and the size of their gradient on the true logit (right, log axis) as that logit moves;
    a dotted line where it is now."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[t("sm.mse_losses"), t("sm.mse_grads")])
    for name, loss, grad, color in (("CrossEntropyLoss", sweep.ce, sweep.ce_grad, "#4c78a8"),
                                    ("MSELoss(softmax, one-hot)", sweep.mse, sweep.mse_grad, "#e45756")):
        x = sweep.true_logit.tolist()
        fig.add_scatter(x=x, y=loss.tolist(), name=name, line_color=color, row=1, col=1)
        fig.add_scatter(x=x, y=grad.abs().clamp_min(1e-12).tolist(), name=name, line_color=color, showlegend=False,
                        row=1, col=2)
    for col in (1, 2):
        fig.add_vline(x=now, line_dash="dot", line_color="gray", row=1, col=col)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_xaxes(title_text=t("sm.mse_axis", target=target))
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig
