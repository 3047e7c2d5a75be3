"""Watching training runs (shell): the one widget every page uses to start seeded LeNet-5 runs side by side and follow
them live (training, pitfalls, dataset, image_tensor). The runs live in the shared background job manager: identical
settings are one run for the whole class, and moving a widget or leaving the page never stops them."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import streamlit as st

from core.errors import LabError
from core.training import ALWAYS, USUAL_LR, EpochRecord, TrainConfig, bucket_means, differing_fields, label_fields
from lab import cache, figures
from lab.cache import manager
from lab.ui import error_text, lab_error, lang, t
from runtime.jobs import JobManager, JobView

COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756")  # one per run, the same in every chart of the app
CORRECT, MISTAKE, THIRD = COLORS[2], COLORS[3], COLORS[0]  # a comparison of the right way and a mistake
LIVE_REFRESH = 1.0  # seconds between redraws while a run is queued or training
IDLE_REFRESH = 5.0  # seconds between checks while idle, when following the server: another student may start these runs
MAX_BATCH_POINTS = 300  # per run: longer batch-loss curves are drawn as means of consecutive batches
CURVES_HEIGHT = 380  # px: with the compact progress above, its top half is on a 1366x768 laptop's first screen


@dataclass(frozen=True)
class Run:
    """One run of a comparison: a translated label, its configuration and its colour."""

    label: str
    config: TrainConfig
    color: str


NAMED_VALUES = {"activation": "training.act_", "optimizer": "training.opt_", "pooling": "training.pool_",
                "mistake": "training.mistake_", "dataset": "training.label_dataset_",
                "normalize": "training.label_normalize_"}  # fields whose values have names of their own


def field_text(name: str, value: object) -> str:
    """One setting of a run in the user's language: "ReLU", "lr=0.01", "4 epochs", "种子 3"..."""
    if name in NAMED_VALUES:
        return t(f"{NAMED_VALUES[name]}{str(value).lower() if isinstance(value, bool) else value}")
    one = "_one" if name == "epochs" and value == 1 else ""  # "1 epoch", not "1 epochs"
    return t(f"training.label_{name}{one}", value=f"{value:g}" if isinstance(value, float) else value)


def run_name(config: TrainConfig, fields: Sequence[str] | None = None) -> str:
    """A run's name in the user's language, from its fields (config.run_label stays the language-neutral key):
    activation, optimizer and learning rate, then every setting off its default; or only `fields`."""
    shown = label_fields(config)
    names = [n for n in (shown if fields is None else fields)]
    parts = []
    for name in names:
        if name == "lr" and "optimizer" in names:
            continue  # written with its optimizer: "Adam lr=0.001"
        text = field_text(name, getattr(config, name))
        if name == "optimizer" and "lr" in names:
            text += " " + field_text("lr", config.lr)
        parts.append(text)
    return " · ".join(parts)


def run_names(configs: Sequence[TrainConfig]) -> tuple[list[str], str]:
    """For a comparison: each run named by what differs between the runs ("tanh", "ReLU"), and the settings they
    share, in the user's language ("" when they share only the defaults). One run is named by its activation,
    optimizer and learning rate."""
    differ = differing_fields(configs) or ALWAYS
    shared = [n for n in label_fields(configs[0]) if n not in differ] if configs else []
    return [run_name(c, differ) for c in configs], run_name(configs[0], shared) if shared else ""


def _seconds(s: float | None) -> str:
    return "–" if s is None else (f"{s:.0f} s" if s >= 10 else f"{s:.1f} s")


def held_epoch(view: JobView) -> EpochRecord | None:
    """The epoch whose weights the finished model holds: the best one after early stopping, else the last."""
    n = view.done.best_epoch if view.done is not None and view.done.reason == "early_stop" else len(view.epochs)
    return view.epochs[n - 1] if 0 < n <= len(view.epochs) else None


def status(view: JobView | None) -> str:
    """One line: what the run is doing, its speed and time left, or how it ended."""
    if view is None:
        return t("training.status_new")
    if view.status == "queued":
        return t("training.status_queued", position=view.queue_position)
    if view.status == "running":
        epoch = min(view.config.epochs, len(view.epochs) + 1)
        speed = view.samples_per_sec
        return t("training.status_running", epoch=epoch, epochs=view.config.epochs,
                 speed=f"{speed:,.0f}" if speed else "–", left=_seconds(view.eta_seconds))
    if view.status == "failed":  # the translated reason; the raw exception text stays in the server log
        return t("training.status_failed", detail=error_text(view.failure, "errors.train.failed"))
    if view.status == "cancelled" or view.done is None:
        return t("training.status_cancelled")
    held = held_epoch(view)
    acc = f"{held.test_acc:.1%}" if held else "–"
    text = t(f"training.status_{view.done.reason}", acc=acc, seconds=_seconds(view.elapsed),
             epoch=view.done.epochs_run, best=view.done.best_epoch, step=view.done.diverged_step or 0)
    return text + (" " + t("training.from_disk") if view.from_disk else "")


def state_of(views: list[JobView | None]) -> tuple:
    """What the curves depend on, per run: enough to tell two moments of a run apart."""
    return tuple(None if v is None else (v.key, v.status, v.steps_done, len(v.epochs), v.done is not None)
                 for v in views)


def finished(views: list[JobView | None]) -> bool:
    """Every run has ended (finished, stopped early, diverged, failed or stopped) and none is training again."""
    return bool(views) and all(v is not None and v.done is not None and not v.active for v in views)


def progress(runs: list[Run], views: list[JobView | None]) -> None:
    """One compact block per run, side by side: its colour and name over a progress bar with its status line (speed
    and time left while it trains), so the curves below stay on the first screen."""
    for col, run, view in zip(st.columns(len(runs)), runs, views):
        with col:
            st.markdown(f"<span style='color:{run.color};font-size:1.2em'>■</span> **{run.label}**",
                        unsafe_allow_html=True)
            st.progress(view.progress if view else 0.0, text=status(view))
            if view is not None and view.requests > 1:
                st.caption(t("training.shared", n=view.requests))
            if view is not None and view.status == "cancelled":  # also for those who did not press Stop themselves
                st.caption(t("training.stopped_note"))


def notes(runs: list[Run], views: list[JobView | None], problems: list[LabError | None]) -> None:
    """What went wrong with a run, if anything did (below the curves: they stay where they are)."""
    for run, view, problem in zip(runs, views, problems):
        cfg = run.config
        if view is not None and view.save_problem is not None:
            st.warning(t(f"errors.{view.save_problem.code}", **view.save_problem.params), icon=":material/save:")
        if view is not None and view.notice is not None:
            st.warning(t(f"errors.{view.notice.code}", **view.notice.params) + " " + t("training.retrained"),
                       icon=":material/build:")
        elif view is None and problem is not None:  # found on disk but refused: say so before anyone trains
            st.warning(t(f"errors.{problem.code}", **problem.params) + " " + t("training.retrain_hint"),
                       icon=":material/build:")
        if view is not None and view.done is not None and view.done.reason == "diverged":
            st.error(f"**{run.label}**: " + t("training.diverged_help", lr=f"{cfg.lr:g}", opt=cfg.optimizer,
                                                 usual=f"{USUAL_LR[cfg.optimizer]:g}"), icon=":material/error:")
        elif view is not None and view.usable and cfg.lr_is_risky and view.epochs and view.epochs[-1].test_acc < 0.3:
            st.warning(f"**{run.label}**: " + t("training.wrecked_help", lr=f"{cfg.lr:g}",
                                                   acc=f"{view.epochs[-1].test_acc:.0%}"), icon=":material/warning:")


def server_runs(mgr: JobManager, shown: list[JobView | None]) -> None:
    """The runs training or waiting on this server that the widget does not show (started by another student, or
    before a control moved): each with its status and a Stop button, so a run is never out of reach."""
    here = {v.key for v in shown if v is not None}
    others = [v for v in mgr.active() if v.key not in here]
    if not others:
        return
    with st.expander(t("training.server_runs", n=len(others)), icon=":material/dns:"):
        for view in others:
            label, line, stop = st.columns([3, 3, 1], vertical_alignment="center")
            label.markdown(run_name(view.config))
            line.caption(status(view))
            if stop.button(t("training.stop"), key=f"tr_stop_{view.key}", icon=":material/stop:"):
                mgr.cancel(view.config)
                st.rerun()


def curves(runs: list[Run], views: list[JobView | None], batches: bool = True, floor: float | None = None) -> dict:
    """Loss and accuracy per epoch, train solid and test dashed, one colour per run; early stops and divergence marked.
    Shared by every session that watches the same runs at the same moment (a class opening one link)."""
    names = tuple((r.label, r.color, r.config.epochs) for r in runs)
    return cache.run_curves((state_of(views), names), lang(), batches, floor,
                            lambda: _curves(runs, views, batches, floor))


def _curves(runs: list[Run], views: list[JobView | None], batches: bool, floor: float | None) -> dict:
    """Built as one plain dict: make_subplots and update_* cost three times as much, every second."""
    data: list[dict] = []
    shapes: list[dict] = []
    notes = [dict(text=t("training.loss_title"), x=0.22, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                  showarrow=False, font=dict(size=15)),
             dict(text=t("training.acc_title"), x=0.78, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                  showarrow=False, font=dict(size=15))]
    for run, view in zip(runs, views):
        if view is None:
            continue
        color, name = run.color, run.label
        if batches and view.losses and view.batches_per_epoch:
            steps, ys = bucket_means(view.losses, MAX_BATCH_POINTS)  # a light figure, redrawn every second
            data.append(dict(type="scatter", x=[step / view.batches_per_epoch for step in steps], y=ys, mode="lines",
                             line=dict(color=color, width=1), opacity=0.3, hoverinfo="skip", legendgroup=name,
                             name=f"{name} · {t('training.batch_loss')}"))
        ep = [e.epoch for e in view.epochs]
        for axis, train_y, test_y in (("", [e.train_loss for e in view.epochs], [e.test_loss for e in view.epochs]),
                                      ("2", [e.train_acc for e in view.epochs], [e.test_acc for e in view.epochs])):
            common = dict(type="scatter", x=ep, mode="lines+markers", xaxis=f"x{axis}", yaxis=f"y{axis}",
                          legendgroup=name, showlegend=not axis)
            data.append(dict(common, y=train_y, line=dict(color=color), name=f"{name} · {t('training.train')}"))
            data.append(dict(common, y=test_y, line=dict(color=color, dash="dash"), marker=dict(symbol="diamond"),
                             name=f"{name} · {t('training.test')}"))
        done = view.done
        if done is not None and done.reason == "early_stop" and view.epochs:
            best = view.epochs[done.best_epoch - 1]
            data.append(dict(type="scatter", x=[best.epoch], y=[best.test_loss], mode="markers+text",
                             marker=dict(symbol="star", size=16, color=color, line=dict(width=1)),
                             text=[t("training.best_epoch")], textposition="top center", legendgroup=name,
                             name=f"{name} · {t('training.best_epoch')}"))
            for axis in ("", "2"):
                shapes.append(dict(type="line", x0=done.epochs_run, x1=done.epochs_run, y0=0, y1=1, xref=f"x{axis}",
                                   yref=f"y{axis} domain", line=dict(color=color, dash="dot")))
            notes.append(dict(x=done.epochs_run, y=1.0, xref="x2", yref="y2 domain", text=t("training.early_stop_mark"),
                              showarrow=False, font=dict(color=color), yanchor="bottom"))
        if done is not None and done.reason == "diverged" and view.batches_per_epoch:
            x = (done.diverged_step or 0) / view.batches_per_epoch
            shapes.append(dict(type="line", x0=x, x1=x, y0=0, y1=1, xref="x", yref="y domain",
                               line=dict(color=color, dash="dot")))
            notes.append(dict(x=x, y=1.0, xref="x", yref="y domain", text=t("training.diverged_mark"),
                              showarrow=False, font=dict(color=color), yanchor="bottom"))
    if floor is not None:  # the lowest loss the runs can reach (softmax before the loss)
        shapes.append(dict(type="line", x0=0, x1=1, y0=floor, y1=floor, xref="x domain", yref="y",
                           line=dict(color="grey", dash="dot")))
        notes.append(dict(x=1.0, y=floor, xref="x domain", yref="y", text=t("training.floor", value=f"{floor:.3f}"),
                          showarrow=False, xanchor="right", yanchor="bottom"))
    epochs = max([r.config.epochs for r in runs] or [1])
    for axis in ("", "2"):  # an axis with no trace is not drawn: before training, both charts still show theirs
        data.append(dict(type="scatter", x=[0, epochs], y=[None, None], xaxis=f"x{axis}", yaxis=f"y{axis}",
                         mode="lines", showlegend=False, hoverinfo="skip", name=""))
    has_loss = any(v is not None and (v.losses or v.epochs) for v in views)
    loss_range = None if has_loss else [0, round(math.log(10) * 1.1, 2)]  # an untrained net starts near ln 10
    epoch_axis = dict(title=dict(text=t("training.epoch_axis")), range=[0, epochs + 0.3], dtick=max(1, epochs // 10))
    layout = dict(height=CURVES_HEIGHT, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2),
                  xaxis=dict(epoch_axis, domain=[0.0, 0.44], anchor="y"),
                  xaxis2=dict(epoch_axis, domain=[0.56, 1.0], anchor="y2"),
                  yaxis=dict(title=dict(text=t("training.loss_axis")), rangemode="tozero", anchor="x",
                             **({"range": loss_range} if loss_range else {})),
                  yaxis2=dict(title=dict(text=t("training.acc_axis")), tickformat=".0%", range=[0, 1.02], anchor="x2"),
                  shapes=shapes, annotations=notes)
    return dict(data=data, layout=layout)


def watch(runs: list[Run], key: str, *, floor: float | None = None, batches_toggle: bool = False,
          follow: bool = False, where: Sequence | None = None,
          extra: Callable[[list[JobView | None]], None] | None = None) -> list[JobView | None]:
    """The widget: Start and Stop, then (redrawn live in a fragment) each run's progress and the curves.
    Returns the runs' snapshots (None for a run nobody has started).

    key prefixes the widgets' keys (<key>_start, <key>_stop, <key>_batches); batches_toggle adds a switch for the
    every-batch loss (bound to the URL), otherwise it is drawn; floor draws the lowest reachable loss; follow also lists
    the other runs on the server and checks every IDLE_REFRESH seconds while idle, so runs another student starts
    with these settings show up. where: three containers for Start, Stop and the switch (else a row of their own);
    extra(views) draws more of the runs below the curves, live too."""
    mgr = manager()
    if mgr.warning is not None:  # checkpoints cannot be written: the lab works on, in memory
        st.warning(t(f"errors.{mgr.warning.code}", **mgr.warning.params), icon=":material/save:")
    configs = [r.config for r in runs]
    start, stop, toggle = where if where is not None else st.columns([1, 1, 3], vertical_alignment="center")
    if start.button(t("training.start"), type="primary", icon=":material/play_arrow:", key=f"{key}_start"):
        for cfg in configs:
            try:
                mgr.submit(cfg)
            except LabError as exc:
                lab_error(exc)
    if stop.button(t("training.stop"), icon=":material/stop:", key=f"{key}_stop"):
        for cfg in configs:
            mgr.cancel(cfg)
    batches = True
    if batches_toggle:
        batches = toggle.toggle(t("training.show_batches"), True, key=f"{key}_batches", bind="query-params")

    views = [mgr.view(c) for c in configs]
    active = any(v is not None and v.active for v in views)
    before = state_of(views)

    def live() -> None:
        """Redrawn every LIVE_REFRESH seconds while a run is queued or training: snapshots only, no training here."""
        now = [mgr.view(c) for c in configs]
        if not active and state_of(now) != before:
            st.rerun()  # another student started (or finished) one of these runs: redraw all, then follow it live
        progress(runs, now)
        figures.show(curves(runs, now, batches, floor), key=f"{key}_chart_{lang()}")
        notes(runs, now, [mgr.problem(c) if v is None else None for c, v in zip(configs, now)])
        if follow:
            server_runs(mgr, now)
        if extra is not None:
            extra(now)
        if active and not any(v is not None and v.active for v in now):
            st.rerun()  # all finished: one full redraw shows the results and stops the polling

    idle = IDLE_REFRESH if follow else None
    st.fragment(live, run_every=LIVE_REFRESH if active else idle)()
    return views


def results(runs: list[Run], views: list[JobView | None]) -> None:
    """A table of the finished runs, read at the epoch whose weights each model keeps (the best one after early
    stopping): losses, accuracies, epochs run, how it ended, and its time."""
    rows = []
    for run, view in zip(runs, views):
        held = held_epoch(view) if view is not None else None
        done = view.done if view is not None else None
        rows.append({t("training.col_run"): run.label, t("training.col_config"): run_name(run.config),
                     t("training.col_train_loss"): f"{held.train_loss:.3f}" if held else "–",
                     t("training.col_test_loss"): f"{held.test_loss:.3f}" if held else "–",
                     t("training.col_train_acc"): f"{held.train_acc:.1%}" if held else "–",
                     t("training.col_test_acc"): f"{held.test_acc:.1%}" if held else "–",
                     t("training.col_epochs"): done.epochs_run if done else 0,
                     t("training.col_ending"): t(f"training.end_{done.reason}") if done else "–",
                     t("training.col_seconds"): f"{view.elapsed:.1f}" if view is not None else "–"})
    st.dataframe(rows, hide_index=True, width="stretch")
