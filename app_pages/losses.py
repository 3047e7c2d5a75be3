"""Softmax and cross-entropy: editable logits, every step of the arithmetic, the course's batch, three pitfalls."""
import streamlit as st

from core.errors import LabError
from core.losses import (MAX_CLASSES, cross_entropy_breakdown, double_softmax, naive_cross_entropy, naive_softmax,
                         parse_logits, softmax_breakdown, torch_reference_loss)
from lab import cache, figures
from lab.snippets.losses import batch_code, cross_entropy_code
from lab.ui import code_panel, explain, lab_error, lang, t
from lab.views import losses as view

EXAMPLES = {"course": "2.0, 1.0, 0.1", "huge": "1000, 0, -1000", "digits": "0.3, -1.2, 4.1, 0.8, -0.5, 1.9, 0.0, 2.7, -2.2, 1.1"}
BATCH = [[1.2, 0.8, 2.1, 0.5], [0.2, 2.5, 0.3, 1.0], [1.5, 0.2, 0.3, 3.1]]  # the course's example inputs
BATCH_LABELS = [2, 1, 3]


def load_example(name: str) -> None:
    """Button callback: put an example into the logits box (and so into the URL)."""
    st.session_state["sm_logits"] = EXAMPLES[name]
    st.session_state["sm_target"] = 0


st.title(t("sm.title"))
explain("sm.intro")

cols = st.columns(len(EXAMPLES))
for col, name in zip(cols, EXAMPLES):
    col.button(t(f"sm.example_{name}"), on_click=load_example, args=(name,), width="stretch")
c1, c2, c3 = st.columns([3, 1, 2])
text = c1.text_input(t("sm.logits"), EXAMPLES["course"], key="sm_logits", bind="query-params", help=t("sm.logits_help"))
target = int(c2.number_input(t("sm.target"), 0, MAX_CLASSES - 1, 0, key="sm_target", bind="query-params"))
temperature = c3.slider(t("sm.temperature"), 0.1, 5.0, 1.0, 0.1, key="sm_temp", bind="query-params",
                        help=t("sm.temperature_help"))

try:
    ce = cross_entropy_breakdown(parse_logits(text), target, temperature)
except LabError as exc:
    lab_error(exc)
    ce = None

if ce is not None:
    sm = ce.softmax
    figures.show(cache.view_figure("losses.softmax", (lang(), text, ce.target, temperature),
                                   lambda: view.softmax_figure(sm, ce.target)))
    st.caption(t("sm.bar_note", target=ce.target))

    m1, m2, m3 = st.columns(3)
    m1.metric(t("sm.p_target", target=ce.target), f"{ce.p_target:.4f}")
    m2.metric(t("sm.our_loss"), f"{ce.loss:.4f}")
    m3.metric(t("sm.torch_loss"), f"{torch_reference_loss(sm.logits, ce.target, temperature):.4f}")

    st.subheader(t("sm.steps"))
    plain = naive_softmax(sm.scaled)[0]  # exp(z) without the shift, float32 like a network: may overflow
    steps = [t("sm.step_scale", t=f"{sm.temperature:g}", v=view.listed(sm.scaled)),
             t("sm.step_shift", m=f"{sm.shift:.4g}", v=view.listed(sm.shifted)),
             t("sm.step_exp", v=view.listed(sm.exps)),
             t("sm.step_sum", s=f"{sm.total:.4f}"),
             t("sm.step_divide", v=view.listed(sm.probs)),
             *([t("sm.step_unshifted", v=view.listed(plain), s=f"{float(plain.sum()):.4f}")] if plain.isfinite().all() else []),
             t("sm.step_loss", target=ce.target, p=f"{ce.p_target:.4f}", loss=f"{ce.loss:.4f}"),
             t("sm.step_grad", onehot=view.listed(ce.one_hot), grad=view.listed(ce.grad))]
    st.markdown("\n".join(f"{i}. {s}" for i, s in enumerate(steps, start=1)))
    if ce.p_target == 0.0:
        st.caption(t("sm.underflow"))
    explain("sm.grad_intro")
    code_panel(cross_entropy_code(sm.logits.tolist(), ce.target, sm.temperature))

# your turn: a seeded question (the seed is in the URL), checked against core, then the worked steps
st.subheader(t("sm.quiz_header"))
st.fragment(view.quiz_box)()

# the course's batch
st.subheader(t("sm.batch"))
explain("sm.batch_intro")
batch, reference, formats = cache.course_batch(tuple(map(tuple, BATCH)), tuple(BATCH_LABELS))
st.dataframe([{t("sm.col_row"): i, t("sm.col_logits"): view.listed(batch.logits[i]), t("sm.col_label"): int(batch.labels[i]),
               t("sm.col_probs"): view.listed(batch.probs[i]), t("sm.col_loss"): f"{batch.per_sample[i]:.4f}",
               t("sm.col_grad"): view.listed(batch.grad[i])}
              for i in range(len(BATCH))], hide_index=True, width="stretch")
b1, b2 = st.columns(2)
b1.metric(t("sm.batch_mean"), f"{batch.mean:.4f}")
b2.metric(t("sm.batch_torch"), f"{reference:.4f}")
code_panel(batch_code(BATCH, BATCH_LABELS))

# pitfalls, measured live
st.subheader(t("sm.pitfalls"))
tab1, tab2, tab3, tab4 = st.tabs([t("sm.pit_double"), t("sm.pit_overflow"), t("sm.pit_onehot"), t("sm.pit_mse")])
with tab1:
    explain("sm.pit_double_intro")
    if ce is None:
        st.info(t("sm.fix_logits"), icon=":material/info:")
    try:
        d = double_softmax(ce.softmax.logits if ce else parse_logits(EXAMPLES["course"]), ce.target if ce else 0)
        a, b = st.columns(2)
        a.metric(t("sm.right_loss"), f"{d.correct_loss:.4f}", help=t("sm.right_loss_help"))
        b.metric(t("sm.wrong_loss"), f"{d.wrong_loss:.4f}", help=t("sm.wrong_loss_help"))
        st.markdown(t("sm.double_result", floor=f"{d.floor:.4f}", g1=f"{d.correct_grad_norm:.4f}",
                      g2=f"{d.wrong_grad_norm:.4f}"))
    except LabError as exc:
        lab_error(exc)
with tab2:
    explain("sm.pit_overflow_intro")
    huge = [1000.0, 0.0, -1000.0]
    exps, probs = naive_softmax(huge)
    stable = softmax_breakdown(huge)
    st.dataframe([{"": t("sm.naive"), "exp(z)": view.listed(exps), t("sm.col_probs"): view.listed(probs)},
                  {"": t("sm.stable"), "exp(z)": view.listed(stable.exps), t("sm.col_probs"): view.listed(stable.probs)}],
                 hide_index=True, width="stretch")
    worst = cross_entropy_breakdown(huge, 2)
    st.markdown(t("sm.overflow_loss", naive=f"{naive_cross_entropy(huge, 2):.4f}",
                  stable=f"{worst.loss:.4f}"))
    st.caption(t("sm.overflow_note"))
with tab3:
    explain("sm.pit_onehot_intro")
    f = formats
    st.markdown(t("sm.onehot_result", idx=f"{f.with_indices:.4f}", hot=f"{f.with_one_hot_float:.4f}"))
    if f.one_hot_long_error:
        st.code(f"RuntimeError: {f.one_hot_long_error}", language=None)
with tab4:
    explain("sm.pit_mse_intro")
    logits, target = (ce.softmax.logits, ce.target) if ce else (parse_logits(EXAMPLES["course"]), 0)
    sweep = cache.loss_sweep(tuple(float(v) for v in logits.flatten().tolist()), target)
    figures.show(cache.view_figure("losses.mse", (lang(), tuple(logits.tolist()), target),
                                   lambda: view.mse_figure(sweep, float(logits[target]), target)))
    wrong = 0  # the left end of the sweep: the true class's logit at -10, the model confidently wrong
    st.markdown(t("sm.mse_result", p=f"{float(sweep.p_true[wrong]):.2e}", ce=f"{float(sweep.ce_grad[wrong]):.4f}",
                  mse=f"{float(sweep.mse_grad[wrong]):.2e}"))
