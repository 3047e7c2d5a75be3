"""The training lab's controls and live drawing (shell): widgets -> TrainConfigs, job snapshots -> progress and curves."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.errors import LabError
from core.lenet import ACTIVATIONS, POOLINGS
from core.training import MISTAKES, EpochRecord, OPTIMIZERS, USUAL_LR, TrainConfig, bucket_means, preset_configs
from lab import cache
from lab.jobs import JobView, dataset as digits_of, run_label
from lab.ui import error_text, lang, t, url_choice, url_number_refused

COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756")  # one per run, the same in every chart
MAX_RUNS = len(COLORS)
PRESETS = ("activation", "optimizer", "grid", "custom")
LR_RANGE = (1e-6, 1e6)  # what the number boxes take: 1e6 is allowed, to show a diverging run
FIXED_BY_PRESET = {"activation": {"activation"}, "optimizer": {"optimizer", "lr", "momentum"},
                   "grid": {"activation", "optimizer", "lr", "momentum"}}
CUSTOM_DEFAULTS = (("relu", "adam"), ("tanh", "adam"), ("relu", "sgd"), ("tanh", "sgd"))  # starts as the 2x2
BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512)
LIVE_REFRESH = 1.0  # seconds between redraws of a running comparison
IDLE_REFRESH = 5.0  # seconds between checks while idle: another student may start these very runs
MAX_BATCH_POINTS = 300  # per run: longer batch-loss curves are drawn as means of consecutive batches


def _choice(label_key: str, options, key: str, default=None, widget=st.selectbox, prefix: str = "", **kw):
    """url_choice with translated option names (prefix + option)."""
    names = {o: t(f"{prefix}{o}") if prefix else str(o) for o in options}
    return url_choice(widget, t(label_key), list(options), key=key, default=default, format_func=names.get, **kw)


def datasets() -> list[str]:
    """The datasets this server can train on."""
    return ["embedded"] + (["mnist"] if cache.mnist_available() else [])


def shared_controls(fixed: set[str]) -> TrainConfig:
    """Every TrainConfig field as a widget (bound to the URL); fields a preset sets are shown disabled."""
    off = {name: name in fixed for name in ("activation", "optimizer", "lr", "momentum")}
    note = t("training.set_by_preset")
    model_col, opt_col, data_col, plan_col = st.columns(4)
    with model_col:
        st.markdown(f"**{t('training.group_model')}**")
        act = _choice("training.activation", list(ACTIVATIONS), "tr_act", "relu", prefix="training.act_",
                      disabled=off["activation"], help=note if off["activation"] else None)
        pool = _choice("training.pooling", list(POOLINGS), "tr_pool", "max", prefix="training.pool_")
        dropout = st.slider(t("training.dropout"), 0.0, 0.8, 0.0, 0.1, key="tr_drop", bind="query-params",
                            help=t("training.dropout_help"))
    with opt_col:
        st.markdown(f"**{t('training.group_optimizer')}**")
        opt = _choice("training.optimizer", OPTIMIZERS, "tr_opt", "adam", prefix="training.opt_",
                      disabled=off["optimizer"], help=note if off["optimizer"] else None)
        url_number_refused("tr_lr", LR_RANGE[0], LR_RANGE[1])
        lr = st.number_input(t("training.lr"), min_value=LR_RANGE[0], max_value=LR_RANGE[1], value=1e-3, step=1e-4,
                             format="%g", key="tr_lr", bind="query-params", disabled=off["lr"],
                             help=note if off["lr"] else t("training.lr_help", usual=USUAL_LR[opt]))
        momentum = st.slider(t("training.momentum"), 0.0, 0.99, 0.9, 0.01, key="tr_mom", bind="query-params",
                             disabled=off["momentum"] or opt != "sgd", help=t("training.momentum_help"))
        wd = st.number_input(t("training.weight_decay"), min_value=0.0, max_value=1.0, value=0.0, step=1e-4,
                             format="%g", key="tr_wd", bind="query-params", help=t("training.weight_decay_help"))
    with data_col:
        st.markdown(f"**{t('training.group_data')}**")
        names = datasets()
        dataset = _choice("training.dataset", names, "tr_data", names[-1], prefix="training.data_")
        available = len(digits_of(dataset).train_labels)
        top = max(100, available // 100 * 100)
        if st.session_state.get("tr_n", 0) > top:
            st.session_state["tr_n"] = top
        n = st.slider(t("training.train_size"), 100, top, min(4000, top), 100, key="tr_n", bind="query-params")
        batch = _choice("training.batch_size", BATCH_SIZES, "tr_bs", 64, widget=st.select_slider)
        norm = st.toggle(t("training.normalize"), True, key="tr_norm", bind="query-params",
                         help=t("training.normalize_help"))
    with plan_col:
        st.markdown(f"**{t('training.group_schedule')}**")
        epochs = st.slider(t("training.epochs"), 1, 30, 10, key="tr_ep", bind="query-params")
        patience = st.slider(t("training.patience"), 0, 10, 0, key="tr_pat", bind="query-params",
                             help=t("training.patience_help"))
        seed = st.number_input(t("training.seed"), 0, 9999, 0, key="tr_seed", bind="query-params",
                               help=t("training.seed_help"))
        with st.expander(t("training.advanced")):
            mistake = _choice("training.mistake", MISTAKES, "tr_mistake", "none", prefix="training.mistake_",
                              help=t("training.mistake_help"))
    return TrainConfig(act, pool, opt, float(lr), float(momentum), float(wd), int(batch), int(epochs), int(n),
                       bool(norm), int(seed), int(patience), float(dropout), mistake, dataset)


def custom_runs(base: TrainConfig) -> list[TrainConfig]:
    """Compare mode 'custom': 2-4 runs, each with its own activation, optimizer, learning rate and seed."""
    count = st.slider(t("training.run_count"), 2, MAX_RUNS, 2, key="tr_runs", bind="query-params")
    runs = []
    for i in range(count):
        act0, opt0 = CUSTOM_DEFAULTS[i]
        cols = st.columns([1, 1.2, 1.2, 1.2, 1.2])
        cols[0].markdown(f"<span style='color:{COLORS[i]};font-size:1.4em'>■</span> **{t('training.run', n=i + 1)}**",
                         unsafe_allow_html=True)
        with cols[1]:
            act = _choice("training.activation", list(ACTIVATIONS), f"tr_r{i + 1}_act", act0, prefix="training.act_")
        with cols[2]:
            opt = _choice("training.optimizer", OPTIMIZERS, f"tr_r{i + 1}_opt", opt0, prefix="training.opt_")
        with cols[3]:
            url_number_refused(f"tr_r{i + 1}_lr", LR_RANGE[0], LR_RANGE[1])
        lr = cols[3].number_input(t("training.lr"), min_value=LR_RANGE[0], max_value=LR_RANGE[1], value=USUAL_LR[opt0],
                                  step=1e-4, format="%g", key=f"tr_r{i + 1}_lr", bind="query-params")
        seed = cols[4].number_input(t("training.seed"), 0, 9999, base.seed, key=f"tr_r{i + 1}_seed",
                                    bind="query-params")
        runs.append(base.but(activation=act, optimizer=opt, lr=float(lr), seed=int(seed)))
    return runs


def read_controls() -> tuple[list[TrainConfig], bool]:
    """The runs the controls describe (1 to 4, duplicates merged) and whether two runs were identical."""
    mode = _choice("training.mode", ("single", "compare"), "tr_mode", "compare", widget=st.segmented_control,
                   prefix="training.mode_")
    preset = "single"
    if mode == "compare":
        preset = _choice("training.preset", PRESETS, "tr_preset", "activation", widget=st.pills,
                         prefix="training.preset_")
    st.caption(t(f"training.preset_{preset}_note"))
    base = shared_controls(FIXED_BY_PRESET.get(preset, set()))
    if preset == "single":
        configs = [base]
    elif preset == "custom":
        configs = custom_runs(base)
    else:
        configs = preset_configs(base, preset)
    unique = list(dict.fromkeys(configs))
    return unique, len(unique) < len(configs)


def _seconds(s: float | None) -> str:
    return "–" if s is None else (f"{s:.0f} s" if s >= 10 else f"{s:.1f} s")


def held_epoch(view: JobView) -> EpochRecord | None:
    """The epoch whose weights the finished model holds: the best one after early stopping, else the last."""
    n = view.done.best_epoch if view.done is not None and view.done.reason == "early_stop" else len(view.epochs)
    return view.epochs[n - 1] if 0 < n <= len(view.epochs) else None


def status_text(view: JobView | None) -> str:
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


def progress_panel(configs: list[TrainConfig], views: list[JobView | None],
                   problems: list[LabError | None]) -> None:
    """A column per run: its name, a progress bar with speed and time left, and what went wrong if anything did."""
    for i, (cfg, view, problem) in enumerate(zip(configs, views, problems)):
        name = t("training.run", n=i + 1)
        st.markdown(f"<span style='color:{COLORS[i]};font-size:1.2em'>■</span> **{name}** · `{run_label(cfg)}`",
                    unsafe_allow_html=True)
        st.progress(view.progress if view else 0.0, text=status_text(view))
        if view is not None and view.requests > 1:
            st.caption(t("training.shared", n=view.requests))
        if view is not None and view.status == "cancelled":  # also for those who did not press Stop themselves
            st.caption(t("training.stopped_note"))
        if view is not None and view.save_problem is not None:
            st.warning(t(f"errors.{view.save_problem.code}", **view.save_problem.params), icon=":material/save:")
        if view is not None and view.notice is not None:
            st.warning(t(f"errors.{view.notice.code}", **view.notice.params) + " " + t("training.retrained"),
                       icon=":material/build:")
        elif view is None and problem is not None:  # found on disk but refused: say so before anyone trains
            st.warning(t(f"errors.{problem.code}", **problem.params) + " " + t("training.retrain_hint"),
                       icon=":material/build:")
        if view is not None and view.done is not None and view.done.reason == "diverged":
            st.error(t("training.diverged_help", lr=f"{cfg.lr:g}", opt=cfg.optimizer,
                       usual=f"{USUAL_LR[cfg.optimizer]:g}"), icon=":material/error:")
        elif view is not None and view.usable and cfg.lr_is_risky and view.epochs and view.epochs[-1].test_acc < 0.3:
            st.warning(t("training.wrecked_help", lr=f"{cfg.lr:g}", acc=f"{view.epochs[-1].test_acc:.0%}"),
                       icon=":material/warning:")


def server_runs(mgr, shown: list[JobView | None]) -> None:
    """The runs training or waiting on this server that the controls do not show (started by another student, or
    before a control moved): each with its status and a Stop button, so a run is never out of reach."""
    here = {v.key for v in shown if v is not None}
    others = [v for v in mgr.active() if v.key not in here]
    if not others:
        return
    with st.expander(t("training.server_runs", n=len(others)), icon=":material/dns:"):
        for view in others:
            label, status, stop = st.columns([3, 3, 1], vertical_alignment="center")
            label.code(run_label(view.config), language=None)
            status.caption(status_text(view))
            if stop.button(t("training.stop"), key=f"tr_stop_{view.key}", icon=":material/stop:"):
                mgr.cancel(view.config)
                st.rerun()


def state_of(views: list[JobView | None]) -> tuple:
    """What the curves depend on, per run: enough to tell two moments of a run apart."""
    return tuple(None if v is None else (v.key, v.status, v.steps_done, len(v.epochs), v.done is not None)
                 for v in views)


def curves_figure(configs: list[TrainConfig], views: list[JobView | None], batches: bool) -> go.Figure:
    """Loss and accuracy per epoch, train solid and test dashed, one colour per run; early stops marked.
    Shared by every session that watches the same runs at the same moment (a class opening one link)."""
    return cache.run_curves(state_of(views), lang(), batches, None, lambda: _curves(views, batches))


def _curves(_views: list[JobView | None], batches: bool) -> go.Figure:
    """Built as one Figure(data, layout): make_subplots and update_* cost three times as much, every second."""
    data: list[dict] = []
    shapes: list[dict] = []
    notes = [dict(text=t("training.loss_title"), x=0.22, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                  showarrow=False, font=dict(size=15)),
             dict(text=t("training.acc_title"), x=0.78, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                  showarrow=False, font=dict(size=15))]
    for i, view in enumerate(_views):
        if view is None:
            continue
        color, name = COLORS[i], t("training.run", n=i + 1)
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
    epoch_axis = dict(title=dict(text=t("training.epoch_axis")), rangemode="tozero")
    layout = dict(height=420, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2),
                  xaxis=dict(epoch_axis, domain=[0.0, 0.44], anchor="y"),
                  xaxis2=dict(epoch_axis, domain=[0.56, 1.0], anchor="y2"),
                  yaxis=dict(title=dict(text=t("training.loss_axis")), rangemode="tozero", anchor="x"),
                  yaxis2=dict(title=dict(text=t("training.acc_axis")), tickformat=".0%", range=[0, 1.02], anchor="x2"),
                  shapes=shapes, annotations=notes)
    return go.Figure(data=data, layout=layout)
