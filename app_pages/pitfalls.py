"""Pitfalls lab: five classic training bugs, each as two short seeded LeNet-5 runs side by side (correct vs mistaken)
in the background, plus a small measurement of what the bug does; and two probes of one training step (call order,
gradient accumulation) measured on the spot. Every probe follows the page's activation, optimizer and seed."""
import pandas as pd
import streamlit as st

from core.pitfalls import (BASE, ORDERS, PITFALLS, PROBE_BATCH, PROBE_STEPS, PROBES, pitfall_pair, probe_config_of,
                           softmax_loss_floor)
from core.training import USUAL_LR
from lab import cache
from lab.views.pitfalls import lines
from lab.nav import page_for
from lab.runs import CORRECT, MISTAKE, Run, finished, results, watch
from lab.snippets.pitfalls import diff_lines, pitfall_script
from lab.ui import code, code_panel, explain, t, url_choice

ORDER_STEPS, ORDER_BATCH = 40, 32  # call order: long enough for the loss to fall visibly
MICRO, UPDATES = 16, 3  # accumulation: small-batch size, and updates of each loop compared


def order_text(order: str) -> str:
    """'zbs' -> 'zero_grad → backward → step'."""
    return " → ".join({"z": "zero_grad", "b": "backward", "s": "step"}[c] for c in order)


st.title(t("pitfalls.title"))
explain("pitfalls.intro")
name = url_choice(st.pills, t("pitfalls.which"), list(PITFALLS + PROBES), key="pf_which",
                  format_func=lambda p: t(f"pitfalls.name_{p}"))
c1, c2, c3, c4, c5 = st.columns(5)
with c1:
    act = url_choice(st.selectbox, t("pitfalls.activation"), ["tanh", "relu"], key="pf_act")
with c2:
    opt = url_choice(st.selectbox, t("pitfalls.optimizer"), ["sgd", "adam"], key="pf_opt",
                     format_func=lambda o: t(f"pitfalls.opt_{o}"))
epochs = c3.slider(t("pitfalls.epochs"), 1, 5, BASE.epochs, key="pf_epochs", bind="query-params")
with c4:
    n = url_choice(st.select_slider, t("pitfalls.train_size"), [500, 1000, 2000, 3000, 4000], key="pf_n",
                   default=BASE.train_size)
seed = int(c5.number_input(t("pitfalls.seed"), 0, 9999, 0, key="pf_seed", bind="query-params"))
dropout = BASE.dropout
if name == "no_eval":
    dropout = st.slider(t("pitfalls.dropout"), 0.1, 0.8, 0.5, 0.1, key="pf_drop", bind="query-params")
order, k = "szb", 4
if name == "call_order":
    order = url_choice(st.selectbox, t("pitfalls.order"), list(ORDERS), key="pf_order", default="szb", format_func=order_text)
elif name == "accumulation":
    k = int(st.slider(t("pitfalls.k"), 1, 8, 4, key="pf_k", bind="query-params"))
base = BASE.but(activation=act, optimizer=opt, lr=USUAL_LR[opt], epochs=int(epochs), train_size=int(n), seed=seed,
                dropout=dropout)
correct, mistaken = pitfall_pair(name, base) if name in PITFALLS else (base, None)
setting = dict(act=act, opt=t(f"pitfalls.opt_{opt}"), lr=USUAL_LR[opt], seed=seed)

st.subheader(t(f"pitfalls.name_{name}"))
explain(f"pitfalls.why_{name}")
right, wrong = st.columns(2)
good_lines, bad_lines = diff_lines(name, correct, order, k)
right.markdown(f":green[**{t('pitfalls.correct')}**]")
code(good_lines, right, language="python", wrap_lines=True)
wrong.markdown(f":red[**{t('pitfalls.chosen' if name == 'call_order' else 'pitfalls.mistaken')}**]")
code(bad_lines, wrong, language="python", wrap_lines=True)

done = False
if mistaken is not None:
    st.subheader(t("pitfalls.runs_header"))
    st.caption(t("pitfalls.setup", act=act, opt=t(f"pitfalls.opt_{opt}"), lr=USUAL_LR[opt], n=n, epochs=epochs))
    floor = softmax_loss_floor() if name == "softmax_before_loss" else None
    pair = [Run(t("pitfalls.correct"), correct, CORRECT), Run(t("pitfalls.mistaken"), mistaken, MISTAKE)]
    views = watch(pair, "pf", floor=floor)
    if finished(views):
        results(pair, views)
    done = all(v is not None and v.epochs and not v.active for v in views)
    if done:
        explain(f"pitfalls.result_{name}")

st.subheader(t("pitfalls.probe_header"))
data = cache.digits()
probe_config = probe_config_of(base)
if name == "call_order":
    st.caption(t("pitfalls.probe_setup", steps=ORDER_STEPS, batch=ORDER_BATCH, **setting))
    good, chosen = cache.order_runs(data.source, probe_config, order, ORDER_STEPS, ORDER_BATCH)
    outcome = "ok" if chosen.used == good.used else "refused" if chosen.failed_at is not None else "nothing"
    explain(f"pitfalls.probe_call_order_{outcome}", batch=(chosen.failed_at or 0) + 1)
    if chosen.error:
        st.error(t("pitfalls.probe_call_order_message", message=chosen.error.split(". Hint")[0]), icon=":material/error:")
    shown = range(min(8, ORDER_STEPS))
    st.dataframe(pd.DataFrame({t("pitfalls.probe_call_order_batch"): [i + 1 for i in shown],
                               t("pitfalls.probe_call_order_used"): [
                                   "–" if i >= len(chosen.used) else t("pitfalls.probe_call_order_none") if chosen.used[i] is None
                                   else t("pitfalls.probe_call_order_from", n=chosen.used[i] + 1) for i in shown]}),
                 hide_index=True)
    st.plotly_chart(lines({t("pitfalls.probe_call_order_correct"): good.losses, t("pitfalls.probe_call_order_mistake"): chosen.losses},
                          (CORRECT, MISTAKE), t("pitfalls.step_axis"), t("pitfalls.probe_call_order_axis")), width="stretch")
elif name == "accumulation":
    st.caption(t("pitfalls.probe_setup", steps=k * UPDATES, batch=MICRO, **setting))
    acc = cache.pitfall_probe(name, data.source, probe_config, PROBE_STEPS, PROBE_BATCH, k, MICRO, UPDATES)
    explain("pitfalls.probe_accumulation", k=k, micro=MICRO, big=k * MICRO, updates=UPDATES)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("pitfalls.acc_difference"), f"{acc.difference:.1e}")
    m2.metric(t("pitfalls.acc_ratio"), f"{acc.ratio:.3f}")
    m3.metric(t("pitfalls.acc_weights", updates=UPDATES), f"{acc.weight_gap:.1e}")
    m4.metric(t("pitfalls.acc_weights_undivided"), f"{acc.weight_gap_undivided:.1e}")
    explain(f"pitfalls.probe_accumulation_{opt}", k=k, ratio=f"{acc.ratio:.3f}", gap=f"{acc.weight_gap_undivided:.1e}")
elif name in ("no_zero_grad", "optimizer_in_loop"):
    no_step = "_no_step" if name == "no_zero_grad" else ""  # backward() only: the optimizer plays no part
    st.caption(t(f"pitfalls.probe_setup{no_step}", steps=PROBE_STEPS, batch=PROBE_BATCH, **setting))
    values = cache.pitfall_probe(name, data.source, probe_config, PROBE_STEPS, PROBE_BATCH)
    suffix = "_adam" if name == "optimizer_in_loop" and opt == "adam" else ""
    explain(f"pitfalls.probe_{name}{suffix}", steps=PROBE_STEPS, lr=USUAL_LR[opt], first=f"{values.correct[0]:.3f}")
    st.plotly_chart(lines({t(f"pitfalls.probe_{name}_correct"): values.correct, t(f"pitfalls.probe_{name}_mistake"): values.mistake},
                          (CORRECT, MISTAKE), t("pitfalls.step_axis"), t(f"pitfalls.probe_{name}_axis")), width="stretch")
elif name == "softmax_before_loss":
    values = cache.pitfall_probe(name, data.source, probe_config, PROBE_STEPS, PROBE_BATCH)
    explain("pitfalls.probe_softmax_before_loss", act=act, floor=f"{floor:.4f}", plain=f"{values.correct[0]:.5f}",
            squashed=f"{values.mistake[0]:.5f}", ratio=f"{values.correct[0] / values.mistake[0]:.1f}")
elif name == "no_eval":
    scores = cache.scores_without_eval(mistaken) if done else None
    if scores is None:
        st.info(t("pitfalls.probe_no_eval_wait"), icon=":material/hourglass_empty:")
    else:
        explain("pitfalls.probe_no_eval", n=len(data.test_labels), with_eval=", ".join(f"{s:.1%}" for s in scores.with_eval),
                without=", ".join(f"{s:.1%}" for s in scores.without_eval))
else:
    explain("pitfalls.probe_no_normalize")
    page = page_for("image_tensor")
    if page is not None:
        st.page_link(page.path, label=t(page.title), icon=page.icon)

code_panel(pitfall_script(name, correct.but(dropout=0.0) if mistaken is None else correct, order, k, ORDER_STEPS,
                          ORDER_BATCH, MICRO, UPDATES))
