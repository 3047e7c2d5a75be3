"""Seeded runs side by side (shell): a Start button, live progress in a fragment, curves and a results table.
The runs live in the shared background job manager: identical settings are one run for the whole class, and
moving a widget or leaving the page never stops them."""
from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.errors import LabError
from core.training import TrainConfig, bucket_means
from lab.cache import manager
from lab.ui import error_text, lab_error, lang, t
from runtime.jobs import JobView

CORRECT, MISTAKE, THIRD = "#54a24b", "#e45756", "#4c78a8"
LIVE_REFRESH = 1.0  # seconds between redraws while a run is queued or training
MAX_POINTS = 200  # batch-loss points per run (longer curves are averaged in buckets)


@dataclass(frozen=True)
class Run:
    """One curve of a comparison: a translated label, its configuration and its colour."""

    label: str
    config: TrainConfig
    color: str


def status(view: JobView | None) -> str:
    """One line: not started, queued, training (epoch, time left) or how it ended."""
    if view is None:
        return t("runs.not_started")
    if view.status == "queued":
        return t("runs.queued", position=view.queue_position)
    if view.status == "running":
        left = view.eta_seconds
        return t("runs.running", epoch=min(len(view.epochs) + 1, view.config.epochs), epochs=view.config.epochs,
                 left="–" if left is None else f"{left:.0f}")
    if view.status == "failed":
        return t("runs.failed", detail=error_text(view.failure, "errors.train.failed"))  # raw text: server log only
    if view.done is None or view.status == "cancelled":
        return t("runs.cancelled")
    acc = f"{view.epochs[-1].test_acc:.1%}" if view.epochs else "–"
    return t(f"runs.done_{'diverged' if view.done.reason == 'diverged' else 'finished'}", acc=acc,
             seconds=f"{view.elapsed:.1f}", step=view.done.diverged_step or 0)


def figure(runs: list[Run], views: list[JobView | None], floor: float | None = None) -> go.Figure:
    """Training loss of every batch (left) and test accuracy after each epoch (right), one colour per run."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("runs.loss_title"), t("runs.acc_title")),
                        horizontal_spacing=0.1)
    for run, view in zip(runs, views):
        if view is None:
            continue
        if view.losses and view.batches_per_epoch:
            steps, ys = bucket_means(view.losses, MAX_POINTS)
            fig.add_trace(go.Scatter(x=[s / view.batches_per_epoch for s in steps], y=ys, mode="lines",
                                     line=dict(color=run.color), name=run.label, legendgroup=run.label), 1, 1)
        if view.epochs:
            fig.add_trace(go.Scatter(x=[e.epoch for e in view.epochs], y=[e.test_acc for e in view.epochs],
                                     mode="lines+markers", line=dict(color=run.color, dash="dash"), name=run.label,
                                     legendgroup=run.label, showlegend=False), 1, 2)
    if floor is not None:
        fig.add_hline(y=floor, line=dict(color="grey", dash="dot"), annotation_text=t("runs.floor", value=f"{floor:.3f}"),
                      row=1, col=1)
    fig.update_xaxes(title_text=t("runs.epoch_axis"), rangemode="tozero")
    fig.update_yaxes(title_text=t("runs.loss_axis"), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text=t("runs.acc_axis"), tickformat=".0%", range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def results(runs: list[Run], views: list[JobView | None]) -> None:
    """A table of the finished runs: final train loss, test loss and test accuracy."""
    rows = []
    for run, view in zip(runs, views):
        last = view.epochs[-1] if view is not None and view.epochs else None
        rows.append({t("runs.col_run"): run.label,
                     t("runs.col_train_loss"): f"{last.train_loss:.3f}" if last else "–",
                     t("runs.col_test_loss"): f"{last.test_loss:.3f}" if last else "–",
                     t("runs.col_test_acc"): f"{last.test_acc:.1%}" if last else "–",
                     t("runs.col_epochs"): len(view.epochs) if view is not None else 0})
    st.dataframe(rows, hide_index=True, width="stretch")


def compare(runs: list[Run], key: str, floor: float | None = None) -> list[JobView | None]:
    """Draw the comparison; returns the runs' snapshots (None for a run nobody has started)."""
    mgr = manager()
    if st.button(t("runs.start"), type="primary", icon=":material/play_arrow:", key=f"{key}_start"):
        for run in runs:
            try:
                mgr.submit(run.config)
            except LabError as exc:
                lab_error(exc)
    views = [mgr.view(r.config) for r in runs]
    active = any(v is not None and v.active for v in views)

    def live() -> None:
        now = [mgr.view(r.config) for r in runs]
        for run, view in zip(runs, now):
            st.progress(view.progress if view is not None else 0.0, text=f"**{run.label}** · {status(view)}")
        if any(v is not None for v in now):
            st.plotly_chart(figure(runs, now, floor), width="stretch", key=f"{key}_chart_{lang()}")
        if active and not any(v is not None and v.active for v in now):
            st.rerun()  # all finished: one full redraw shows the results and stops the polling

    st.fragment(live, run_every=LIVE_REFRESH if active else None)()
    if all(v is not None and v.done is not None and not v.active for v in views):
        results(runs, views)
    return views
