"""Autograd: the course's one-layer example, its computational graph read from the real grad_fn chain, the .grad of
every leaf, gradients piling up without zero_grad, and no_grad / detach."""
import streamlit as st

from core.autograd import (FREEZABLE, MAX_CALLS, SECOND_PASS, backward_calls, expected_grads, freeze_step,
                           notes_example, trace_graph, tracking, vector_jacobian)
from lab import cache, figures
from lab.snippets.autograd import autograd_script, vjp_script
from lab.ui import code, code_panel, error, explain, lang, t, url_choice, url_multiselect
from lab.views import autograd as view

st.title(t("autograd.title"))
explain("autograd.intro")
code(f"x = torch.ones(5)  # {t('autograd.code_input')}\ny = torch.zeros(3)  # {t('autograd.code_expected')}\n"
     "w = torch.randn(5, 3, requires_grad=True)\nb = torch.randn(3, requires_grad=True)\n"
     "z = torch.matmul(x, w) + b\nloss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)", language="python")
c1, c2 = st.columns(2)
seed = c1.number_input(t("autograd.seed"), 0, 9999, 0, key="ag_seed", bind="query-params", help=t("autograd.seed_help"))
x_grad = c2.toggle(t("autograd.x_grad"), False, key="ag_xgrad", bind="query-params", help=t("autograd.x_grad_help"))
seed = int(seed)
ex = notes_example(seed, x_grad)
once = backward_calls(seed, 1, x_requires_grad=x_grad).grads[0]

st.subheader(t("autograd.graph_header"))
left, right = st.columns([3, 2])
with left:
    st.graphviz_chart(view.autograd_dot(trace_graph(ex.loss, ex.tensors), once, t("autograd.no_grad_input")), width="stretch")
with right:
    explain("autograd.graph_explain")
    code(f"loss.grad_fn  # {type(ex.loss.grad_fn).__name__}\nz.grad_fn  # {type(ex.z.grad_fn).__name__}\n"
         f"w.grad_fn  # {t('autograd.code_leaf')}\nw.is_leaf, z.is_leaf  # {ex.w.is_leaf}, {ex.z.is_leaf}", language="python")

st.subheader(t("autograd.grad_header"))
explain("autograd.grad_explain")
hand = expected_grads(ex)
code(f"z = {[round(v, 4) for v in ex.z.tolist()]}\nloss = {ex.loss.item():.4f}\n"
     f"(sigmoid(z) - y) / 3 = {[round(v, 4) for v in hand['b'].tolist()]}\nb.grad = {[round(v, 4) for v in once['b'].tolist()]}",
     language="python")
figures.show(cache.view_figure("autograd.grads", (seed, x_grad), lambda: view.grads_figure(once)))


@st.fragment
def accumulation() -> None:
    """backward() called again: gradients pile up (or are refused); then no_grad and detach; the code of both."""
    st.subheader(t("autograd.accumulate_header"))
    explain("autograd.accumulate_explain")
    a1, a2, a3 = st.columns([1, 2, 1])
    calls = a1.slider(t("autograd.calls"), 1, MAX_CALLS, 2, key="ag_calls", bind="query-params")
    with a2:
        second = url_choice(st.radio, t("autograd.second_pass"), list(SECOND_PASS), key="ag_pass",
                            format_func=lambda p: t(f"autograd.pass_{p}"), horizontal=True)
    zero = a3.toggle(t("autograd.zero_grad"), False, key="ag_zero", bind="query-params")
    acc = backward_calls(seed, calls, second, zero, x_grad)
    if acc.grads:
        figures.show(cache.view_figure("autograd.piling", (lang(), seed, calls, second, zero, x_grad),
                                       lambda: view.piling_figure(acc.grads)))
        ratio = float(acc.grads[-1]["b"][0] / acc.grads[0]["b"][0])
        st.markdown(t("autograd.ratio", k=len(acc.grads), ratio=f"{ratio:.2f}"))
    if acc.error:
        error("autograd.refused", k=len(acc.grads) + 1)
        code(f"RuntimeError: {acc.error}", language=None)
    explain(f"autograd.lesson_{'error' if acc.error else 'zero' if zero else 'pile'}")

    st.subheader(t("autograd.tracking_header"))
    explain("autograd.tracking_explain")
    tr = tracking(seed)
    st.dataframe([{t("autograd.col_code"): "z = torch.matmul(x, w) + b", "requires_grad": str(tr.normal)},
                  {t("autograd.col_code"): "with torch.no_grad(): z = torch.matmul(x, w) + b", "requires_grad": str(tr.no_grad)},
                  {t("autograd.col_code"): "z.detach()", "requires_grad": str(tr.detached)}], hide_index=True, width="stretch")
    st.caption(t("autograd.detach_note", shared=tr.detach_shares_memory))

    code_panel(autograd_script(seed, calls, second, zero, x_grad))


accumulation()


@st.fragment
def vector_and_freezing() -> None:
    """backward() of a vector (torch's refusal, then v^T J), and freezing layers; the code of both."""
    st.subheader(t("autograd.vjp_header"))
    explain("autograd.vjp_explain")
    v = tuple(float(col.number_input(f"v[{i}]", -5.0, 5.0, 1.0, 0.5, key=f"ag_v{i}", bind="query-params"))
              for i, col in enumerate(st.columns(3)))
    vj = vector_jacobian(seed, v)
    if vj.error:
        code(f"z = torch.matmul(x, w) + b  # shape {list(vj.v.shape)}\nz.backward()\nRuntimeError: {vj.error}", language=None)
        explain("autograd.scalar_only")
    rows = "\n".join(f"     {[round(a, 4) for a in row]}" for row in vj.jacobian.tolist())
    code(f"J = torch.autograd.functional.jacobian(lambda x: x @ w + b, x)  # {list(vj.jacobian.shape)}\n{rows}\n"
         f"z.backward(v)  # v = {vj.v.tolist()}\nv @ J  = {[round(a, 4) for a in vj.vjp.tolist()]}\n"
         f"x.grad = {[round(a, 4) for a in vj.x_grad.tolist()]}\nb.grad = {vj.b_grad.tolist()}", language="python")
    st.caption(t("autograd.vjp_check", diff=f"{vj.max_difference:.1e}"))

    st.subheader(t("autograd.freeze_header"))
    explain("autograd.freeze_explain")
    frozen = url_multiselect(t("autograd.frozen_layers"), list(FREEZABLE), "ag_frozen", ["conv1", "conv2"])
    fr = freeze_step(tuple(frozen), seed)
    st.dataframe([{t("autograd.col_layer"): r.name, t("autograd.col_frozen"): r.frozen, t("autograd.col_params"): r.params,
                   t("autograd.col_grad_none"): r.grad_is_none, t("autograd.col_changed"): r.changed} for r in fr.layers],
                 hide_index=True, width="stretch")
    st.metric(t("autograd.trainable"), f"{fr.trainable:,} / {fr.total:,}")
    if fr.error:
        error("autograd.all_frozen")
        code(f"RuntimeError: {fr.error}", language=None)
    explain("autograd.freeze_lesson")
    code_panel(vjp_script(seed, v, tuple(frozen)))


vector_and_freezing()
