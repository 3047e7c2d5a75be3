"""Pitfalls lab: five classic training bugs, each as two short seeded LeNet-5 runs side by side (correct vs mistaken)
in the background, plus a small measurement of what the bug does."""
import streamlit as st

from core.data import to_model_input
from core.lenet import LeNetConfig
from core.pitfalls import (BASE, PITFALLS, RepeatedTest, grad_norms, logit_grad_sizes, pitfall_pair, repeated_test,
                           softmax_loss_floor, step_lengths)
from core.training import USUAL_LR, TrainConfig
from lab import cache
from lab.basics_views import lines
from lab.jobs import manager
from lab.nav import page_for
from lab.run_compare import CORRECT, MISTAKE, Run, compare
from lab.snippets.pitfalls import diff_lines, pitfall_script
from lab.ui import code_panel, explain, t, url_choice

PROBE_STEPS = 20


@st.cache_data(show_spinner=False, max_entries=32)
def probe(name: str, source: str, seed: int) -> dict[str, list[float]]:
    """The bug's mechanism measured on real digits (a few steps of LeNet-5), once per pitfall, dataset and seed."""
    data = cache.digits()
    images, labels = data.train_images, data.train_labels
    if name == "no_zero_grad":
        return {"correct": grad_norms(images, labels, True, PROBE_STEPS, seed=seed),
                "mistake": grad_norms(images, labels, False, PROBE_STEPS, seed=seed)}
    if name == "optimizer_in_loop":
        return {"correct": step_lengths(images, labels, False, PROBE_STEPS, seed=seed),
                "mistake": step_lengths(images, labels, True, PROBE_STEPS, seed=seed)}
    if name == "softmax_before_loss":
        logits = cache.untrained_lenet(LeNetConfig(), seed)(to_model_input(data.test_images[:64])).detach()
        plain, squashed = logit_grad_sizes(logits, data.test_labels[:64])
        return {"correct": [plain], "mistake": [squashed]}
    return {}


@st.cache_data(show_spinner=False, max_entries=32)
def scores_without_eval(config: TrainConfig) -> RepeatedTest | None:
    """The finished mistaken run's model tested three times with eval() and without (None until it has finished)."""
    view = manager().view(config)
    if view is None or view.done is None or view.active or not view.usable:
        return None
    data = cache.digits()
    return repeated_test(view.done.model, data.test_images, data.test_labels, config.normalize)


st.title(t("pitfalls.title"))
explain("pitfalls.intro")
name = url_choice(st.pills, t("pitfalls.which"), list(PITFALLS), key="pf_which",
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
base = BASE.but(activation=act, optimizer=opt, lr=USUAL_LR[opt], epochs=int(epochs), train_size=int(n), seed=seed,
                dropout=dropout)
correct, mistaken = pitfall_pair(name, base)

st.subheader(t(f"pitfalls.name_{name}"))
explain(f"pitfalls.why_{name}")
right, wrong = st.columns(2)
good_lines, bad_lines = diff_lines(name, correct)
right.markdown(f":green[**{t('pitfalls.correct')}**]")
right.code(good_lines, language="python", wrap_lines=True)
wrong.markdown(f":red[**{t('pitfalls.mistaken')}**]")
wrong.code(bad_lines, language="python", wrap_lines=True)

st.subheader(t("pitfalls.runs_header"))
st.caption(t("pitfalls.setup", act=act, opt=t(f"pitfalls.opt_{opt}"), lr=USUAL_LR[opt], n=n, epochs=epochs))
floor = softmax_loss_floor() if name == "softmax_before_loss" else None
views = compare([Run(t("pitfalls.correct"), correct, CORRECT), Run(t("pitfalls.mistaken"), mistaken, MISTAKE)], "pf", floor)
done = all(v is not None and v.epochs and not v.active for v in views)
if done:
    explain(f"pitfalls.result_{name}")

st.subheader(t("pitfalls.probe_header"))
data = cache.digits()
if name in ("no_zero_grad", "optimizer_in_loop"):
    explain(f"pitfalls.probe_{name}", steps=PROBE_STEPS)
    values = probe(name, data.source, seed)
    st.plotly_chart(lines({t(f"pitfalls.probe_{name}_correct"): values["correct"], t(f"pitfalls.probe_{name}_mistake"): values["mistake"]},
                          (CORRECT, MISTAKE), t("pitfalls.step_axis"), t(f"pitfalls.probe_{name}_axis")), width="stretch")
elif name == "softmax_before_loss":
    values = probe(name, data.source, seed)
    explain("pitfalls.probe_softmax_before_loss", floor=f"{floor:.4f}", plain=f"{values['correct'][0]:.5f}",
            squashed=f"{values['mistake'][0]:.5f}", ratio=f"{values['correct'][0] / values['mistake'][0]:.1f}")
elif name == "no_eval":
    scores = scores_without_eval(mistaken) if done else None
    if scores is None:
        st.info(t("pitfalls.probe_no_eval_wait"), icon=":material/hourglass_empty:")
    else:
        explain("pitfalls.probe_no_eval", with_eval=", ".join(f"{s:.1%}" for s in scores.with_eval),
                without=", ".join(f"{s:.1%}" for s in scores.without_eval))
else:
    explain("pitfalls.probe_no_normalize")
    page = page_for("image_tensor")
    if page is not None:
        st.page_link(page.path, label=t(page.title), icon=page.icon)

code_panel(pitfall_script(name, correct))
