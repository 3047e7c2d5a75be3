"""Training lab: watch LeNet-5 learn, up to four runs side by side. Runs live in background jobs, never in this script,
so moving a widget, switching pages or opening a second tab never stops, restarts or duplicates them."""
import streamlit as st

from core.errors import LabError
from core.training import USUAL_LR
from lab import training_panels as panels
from lab.cache import manager
from lab.nav import page_for
from lab.snippets.training import training_script
from lab.ui import code_panel, explain, lab_error, t

st.title(t("training.title"))
explain("training.intro")

try:
    configs, merged = panels.read_controls()
except LabError as exc:
    lab_error(exc)
    st.stop()
if merged:
    st.info(t("training.merged"), icon=":material/merge:")
for i, cfg in enumerate(configs):
    if cfg.lr_is_risky:
        st.warning(t("training.lr_risky", n=i + 1, lr=f"{cfg.lr:g}", opt=cfg.optimizer,
                     usual=f"{USUAL_LR[cfg.optimizer]:g}"), icon=":material/warning:")

mgr = manager()
if mgr.warning is not None:  # checkpoints cannot be written: the lab works on, in memory
    st.warning(t(f"errors.{mgr.warning.code}", **mgr.warning.params), icon=":material/save:")
start, stop, toggle = st.columns([1, 1, 3], vertical_alignment="center")
if start.button(t("training.start"), type="primary", icon=":material/play_arrow:", key="tr_start"):
    for cfg in configs:
        try:
            mgr.submit(cfg)
        except LabError as exc:
            lab_error(exc)
if stop.button(t("training.stop"), icon=":material/stop:", key="tr_stop"):
    for cfg in configs:
        mgr.cancel(cfg)
show_batches = toggle.toggle(t("training.show_batches"), True, key="tr_batches", bind="query-params")

views = [mgr.view(c) for c in configs]
active = any(v is not None and v.active for v in views)
before = panels.state_of(views)


def live(was_active: bool) -> None:
    """Redrawn every LIVE_REFRESH seconds while a run is queued or training: snapshots only, no training here."""
    now = [mgr.view(c) for c in configs]
    if not was_active and panels.state_of(now) != before:
        st.rerun()  # another student started (or finished) one of these runs: redraw all, then follow it live
    panels.progress_panel(configs, now, [mgr.problem(c) if v is None else None for c, v in zip(configs, now)])
    panels.server_runs(mgr, now)
    st.plotly_chart(panels.curves_figure(configs, now, show_batches), width="stretch")
    if was_active and not any(v is not None and v.active for v in now):
        st.rerun()  # all finished: one full redraw shows the results and stops the polling


# Fast while these runs train; slowly otherwise, so a run another student starts with these settings shows up.
st.fragment(live, run_every=panels.LIVE_REFRESH if active else panels.IDLE_REFRESH)(active)
explain("training.why_both")

finished = [v for v in views if v is not None and v.done is not None and not v.active]
if finished and len(finished) == len(views):
    st.subheader(t("training.results"))
    held = [panels.held_epoch(v) for v in views]  # after early stopping: the best epoch, whose weights are kept
    rows = [{t("training.col_run"): t("training.run", n=i + 1), t("training.col_config"): v.config.run_label,
             t("training.col_train_acc"): f"{held[i].train_acc:.1%}" if held[i] else "–",
             t("training.col_test_acc"): f"{held[i].test_acc:.1%}" if held[i] else "–",
             t("training.col_epochs"): v.done.epochs_run, t("training.col_ending"): t(f"training.end_{v.done.reason}"),
             t("training.col_seconds"): f"{v.elapsed:.1f}"} for i, v in enumerate(views)]
    st.dataframe(rows, hide_index=True, width="stretch")
    explain(f"training.lesson_{'single' if len(views) == 1 else 'compare'}")
    usable = [v.key for v in views if v.usable]
    inspect = page_for("inspect")
    if usable and inspect is not None:
        st.session_state["tr_last_keys"] = usable
        st.page_link(inspect.path, label=t("training.inspect_link"), icon=":material/biotech:",
                     query_params={"insp_runs": ",".join(usable)})

st.caption(t("training.code_note") if len(configs) > 1 else "")
code_panel(training_script(configs[0]))
