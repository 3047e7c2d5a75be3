"""Training lab: watch LeNet-5 learn, up to four runs side by side. Runs live in background jobs, never in this script,
so moving a widget, switching pages or opening a second tab never stops, restarts or duplicates them."""
import streamlit as st

from core.errors import LabError
from core.training import USUAL_LR
from lab import training_panels as panels
from lab.nav import page_for
from lab.runs import COLORS, Run, finished, results, watch
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

runs = [Run(t("training.run", n=i + 1), cfg, COLORS[i]) for i, cfg in enumerate(configs)]
# Follows the server: a run another student starts with these settings shows up, and so do the other runs training.
views = watch(runs, "tr", batches_toggle=True, follow=True)
explain("training.why_both")

if finished(views):
    st.subheader(t("training.results"))
    results(runs, views)  # after early stopping: the best epoch, whose weights are kept
    explain(f"training.lesson_{'single' if len(views) == 1 else 'compare'}")
    usable = [v.key for v in views if v.usable]
    inspect = page_for("inspect")
    if usable and inspect is not None:
        st.session_state["tr_last_keys"] = usable
        st.page_link(inspect.path, label=t("training.inspect_link"), icon=":material/biotech:",
                     query_params={"insp_runs": ",".join(usable)})

st.caption(t("training.code_note") if len(configs) > 1 else "")
code_panel(training_script(configs[0]))
