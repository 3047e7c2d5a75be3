"""train() vs eval(): the same digits through a model with dropout and batch norm in both modes, batch norm's running
statistics moving during forward passes, and the memory and time torch.no_grad() saves, measured live."""
import streamlit as st

from core.errors import LabError
from core.train_eval import (DEFAULT_DROPOUT, DEFAULT_MOMENTUM, DEFAULT_REPEATS, DEFAULT_STEPS, EVAL_STEPS, MODES_BATCH,
                             NO_GRAD_BATCH, NO_GRAD_BATCHES, STATS_BATCH)
from lab import cache, figures
from lab.snippets.train_eval import modes_script
from lab.ui import code, code_panel, explain, lab_error, lang, t, url_choice
from lab.views import train_eval as view

st.title(t("train_eval.title"))
explain("train_eval.intro")
data = cache.digits()
c1, c2, c3, c4 = st.columns(4)
dropout = c1.slider(t("train_eval.dropout"), 0.0, 0.9, DEFAULT_DROPOUT, 0.1, key="te_drop", bind="query-params")
momentum = c2.slider(t("train_eval.momentum"), 0.01, 1.0, DEFAULT_MOMENTUM, 0.01, key="te_mom", bind="query-params",
                     help=t("train_eval.momentum_help"))
repeats = c3.slider(t("train_eval.repeats"), 2, 10, DEFAULT_REPEATS, key="te_reps", bind="query-params")
seed = int(c4.number_input(t("train_eval.seed"), 0, 9999, 0, key="te_seed", bind="query-params"))

st.subheader(t("train_eval.same_header"))
explain("train_eval.same_explain", n=MODES_BATCH)
try:
    runs = cache.mode_runs(data.source, MODES_BATCH, repeats, dropout, momentum, seed)
except LabError as exc:
    lab_error(exc)
    st.stop()
figures.show(cache.view_figure("train_eval.modes", (lang(), data.source, repeats, dropout, momentum, seed),
                               lambda: view.modes_figure(runs)))
m1, m2 = st.columns(2)
m1.metric(t("train_eval.spread", mode="train()"), f"{runs['train'].spread:.4f}")
m2.metric(t("train_eval.spread", mode="eval()"), f"{runs['eval'].spread:.4f}")
explain("train_eval.same_lesson" if dropout > 0 else "train_eval.same_lesson_no_dropout")


st.subheader(t("train_eval.bn_header"))  # not a fragment: its step count is also in the code panel below
explain("train_eval.bn_explain", batch=STATS_BATCH, eval_steps=EVAL_STEPS)
steps = st.slider(t("train_eval.steps"), 1, 60, DEFAULT_STEPS, key="te_steps", bind="query-params")
trace = cache.stats_trace(data.source, STATS_BATCH, steps, EVAL_STEPS, momentum, seed)
figures.show(cache.view_figure("train_eval.stats", (lang(), data.source, steps, momentum, seed),
                               lambda: view.running_stats_figure(trace, steps, EVAL_STEPS)))
st.caption(t("train_eval.bn_numbers", steps=steps, tracked=steps, first=f"{float(trace.running_mean[-1, 0]):.4f}",
             target=f"{float(trace.batch_mean[:, 0].mean()):.4f}"))

st.subheader(t("train_eval.no_grad_header"))
explain("train_eval.no_grad_explain")
n1, n2 = st.columns([3, 1], vertical_alignment="bottom")
with n1:
    batch = url_choice(st.select_slider, t("train_eval.no_grad_batch"), NO_GRAD_BATCHES, key="te_bs",
                       default=NO_GRAD_BATCH)
if n2.button(t("train_eval.measure_again"), icon=":material/timer:", key="te_measure"):
    st.session_state["te_attempt"] = st.session_state.get("te_attempt", 0) + 1
s = cache.no_grad_savings(data.source, batch, st.session_state.get("te_attempt", 0))
k1, k2, k3, k4 = st.columns(4)
k1.metric(t("train_eval.time_grad"), f"{s.seconds_grad * 1000:.2f} ms")
k2.metric(t("train_eval.time_no_grad"), f"{s.seconds_no_grad * 1000:.2f} ms",
          delta=f"{(s.seconds_no_grad - s.seconds_grad) * 1000:+.2f} ms", delta_color="inverse")
k3.metric(t("train_eval.saved_grad", n=s.saved_tensors_grad), f"{s.saved_bytes_grad / 1e6:.2f} MB")
k4.metric(t("train_eval.saved_no_grad"), f"{s.saved_bytes_no_grad / 1e6:.2f} MB")
st.caption(t("train_eval.measured_note", batch=batch))
code("model.eval()  # dropout off, batch norm uses its running statistics\nwith torch.no_grad():  # record no graph\n"
     "    for images, labels in test_loader:\n        outputs = model(images)", language="python")

code_panel(modes_script(data.source, dropout, momentum, repeats, seed, steps, STATS_BATCH, EVAL_STEPS, batch))
