"""Drawing of the train() vs eval() page (shell): the logits of repeated calls in both modes, and batch norm's running
statistics moving during forward passes. Plain figure dicts (lab.figures.show draws them unvalidated)."""
from __future__ import annotations

from core.train_eval import MODES, ModeRun, StatsTrace
from lab.figures import browser_numbers
from lab.ui import t

CALL_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac", "#eeca3b")
CHANNEL_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756")
GAP = 0.05  # between the two panels, as a share of the width


def modes_figure(runs: dict[str, ModeRun]) -> dict:
    """The ten logits of every repeated call, train() on the left and eval() on the right, one colour per call."""
    data, width = [], (1 - GAP) / 2
    layout: dict = dict(height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3),
                        annotations=[])
    for col, mode in enumerate(MODES, start=1):
        axis = "" if col == 1 else str(col)
        left = (col - 1) * (width + GAP)
        for k, logits in enumerate(runs[mode].logits):
            data.append(dict(type="scatter", x=list(range(10)), y=browser_numbers(logits), mode="lines+markers",
                             name=t("train_eval.call", k=k + 1), line=dict(color=CALL_COLORS[k]), legendgroup=str(k),
                             showlegend=col == 1, xaxis=f"x{axis}", yaxis=f"y{axis}"))
        layout[f"xaxis{axis}"] = dict(domain=[left, left + width], anchor=f"y{axis}", dtick=1,
                                      title=dict(text=t("train_eval.class_axis")))
        layout[f"yaxis{axis}"] = dict(anchor=f"x{axis}", **({"title": dict(text=t("train_eval.logit_axis"))}
                                                            if col == 1 else {"matches": "y", "showticklabels": False}))
        layout["annotations"].append(dict(text=t(f"train_eval.mode_{mode}", spread=f"{runs[mode].spread:.3f}"),
                                          x=left + width / 2, y=1.0, xref="paper", yref="paper", xanchor="center",
                                          yanchor="bottom", showarrow=False, font=dict(size=16)))
    return dict(data=data, layout=layout)


def running_stats_figure(trace: StatsTrace, steps: int, eval_steps: int) -> dict:
    """Batch norm's running mean of four channels after each call (lines) beside each training batch's own mean
    (dots); the eval() calls shaded."""
    data = []
    calls = list(range(len(trace.running_mean)))
    for c in range(4):
        color = CHANNEL_COLORS[c]
        data.append(dict(type="scatter", x=calls, y=browser_numbers(trace.running_mean[:, c]), mode="lines", line=dict(color=color),
                         name=t("train_eval.running", c=c)))
        data.append(dict(type="scatter", x=list(range(1, steps + 1)), y=browser_numbers(trace.batch_mean[:, c]), mode="markers",
                         marker=dict(color=color, size=5, opacity=0.5), name=t("train_eval.batch_mean", c=c)))
    layout = dict(height=360, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.25),
                  xaxis=dict(title=dict(text=t("train_eval.calls_axis"))),
                  yaxis=dict(title=dict(text=t("train_eval.mean_axis"))),
                  shapes=[dict(type="rect", xref="x", yref="paper", x0=steps, x1=steps + eval_steps, y0=0, y1=1,
                               fillcolor="grey", opacity=0.12, line=dict(width=0), layer="below")],
                  annotations=[dict(text="model.eval()", x=steps, y=1, xref="x", yref="paper", xanchor="left",
                                    yanchor="top", showarrow=False)])
    return dict(data=data, layout=layout)
