"""Drawing of the softmax / cross-entropy page (shell): the logits, exponentials and probabilities as bars,
cross-entropy against MSE as the true class's logit moves (plain figure dicts), and the "your turn" box."""
from __future__ import annotations

import random

import streamlit as st

from core.errors import LabError
from core.losses import LossSweep, SoftmaxBreakdown
from core.quiz import TWO_DECIMALS, make_question
from lab.ui import lab_error, t

THIRDS = ((0.0, 0.28), (0.36, 0.64), (0.72, 1.0))  # three panels side by side
HALVES = ((0.0, 0.44), (0.56, 1.0))


def listed(values) -> str:
    """A short list of numbers for the written-out arithmetic."""
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"


def _titles(texts: list[str], domains) -> list[dict]:
    """Panel titles above each panel (what make_subplots would write)."""
    return [{"text": text, "x": sum(d) / 2, "y": 1.0, "xref": "paper", "yref": "paper", "xanchor": "center",
             "yanchor": "bottom", "showarrow": False, "font": {"size": 14}} for text, d in zip(texts, domains)]


def softmax_figure(sm: SoftmaxBreakdown, target: int) -> dict:
    """Scaled logits, their exponentials and the probabilities side by side, the true class in red."""
    classes = [str(i) for i in range(sm.logits.numel())]
    colors = ["#e45756" if i == target else "#4c78a8" for i in range(len(classes))]
    data, layout = [], {"height": 320, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "showlegend": False,
                        "annotations": _titles([t("sm.bar_logits"), t("sm.bar_exps"), t("sm.bar_probs")], THIRDS)}
    y_titles = (t("sm.axis_logits"), t("sm.axis_exps"), t("sm.axis_probs"))
    for i, (values, domain, y_title) in enumerate(zip((sm.scaled, sm.exps, sm.probs), THIRDS, y_titles), start=1):
        suffix = str(i) if i > 1 else ""
        data.append({"type": "bar", "x": classes, "y": [float(f"{v:.6g}") for v in values.tolist()],
                     "marker": {"color": colors}, "text": [f"{v:.3g}" for v in values.tolist()],
                     "textposition": "auto", "xaxis": f"x{suffix}", "yaxis": f"y{suffix}"})
        layout[f"xaxis{suffix}"] = {"domain": list(domain), "anchor": f"y{suffix}", "type": "category",
                                    "title": {"text": t("sm.axis_class")}}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "title": {"text": y_title, "standoff": 4}}
    layout["yaxis3"]["range"] = [0, 1]
    return {"data": data, "layout": layout}


def mse_figure(sweep: LossSweep, now: float, target: int) -> dict:
    """Both losses (left) and the size of their gradient on the true logit (right, log axis) as that logit moves;
    a dotted line where it is now."""
    x = [round(v, 4) for v in sweep.true_logit.tolist()]
    data = []
    for name, loss, grad, color in (("CrossEntropyLoss", sweep.ce, sweep.ce_grad, "#4c78a8"),
                                    ("MSELoss(softmax, one-hot)", sweep.mse, sweep.mse_grad, "#e45756")):
        data.append({"type": "scatter", "x": x, "y": [float(f"{v:.5g}") for v in loss.tolist()], "name": name,
                     "mode": "lines", "line": {"color": color}})
        data.append({"type": "scatter", "x": x, "y": [float(f"{v:.5g}") for v in grad.abs().clamp_min(1e-12).tolist()],
                     "name": name, "mode": "lines", "line": {"color": color}, "showlegend": False,
                     "xaxis": "x2", "yaxis": "y2"})
    axis = {"title": {"text": t("sm.mse_axis", target=target)}}
    return {"data": data, "layout": {
        "height": 340, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "legend": {"orientation": "h", "y": -0.35}, "annotations": _titles([t("sm.mse_losses"), t("sm.mse_grads")], HALVES),
        "shapes": [{"type": "line", "xref": xref, "yref": "paper", "x0": now, "x1": now, "y0": 0, "y1": 1,
                    "line": {"color": "gray", "dash": "dot"}} for xref in ("x", "x2")],
        "xaxis": {"domain": list(HALVES[0]), "anchor": "y", **axis},
        "yaxis": {"anchor": "x", "title": {"text": t("sm.mse_loss_axis")}},
        "xaxis2": {"domain": list(HALVES[1]), "anchor": "y2", **axis},
        "yaxis2": {"anchor": "x2", "type": "log", "exponentformat": "power", "title": {"text": t("sm.mse_grad_axis")}}}}


def new_question() -> None:
    """Button callback: another seed, so another question (and an empty answer box)."""
    st.session_state["sm_quiz"] = random.randrange(1, 10_000)


def quiz_box() -> None:
    """Your turn: the loss of seeded random logits, checked against core with a tolerance, then the worked steps.
    The seed lives in the URL (?sm_quiz=), so a teacher can give the whole class the same question."""
    with st.container(border=True):
        st.markdown(f"**{t('sm.quiz')}**")
        c1, c2, _ = st.columns([1, 1, 1], vertical_alignment="bottom")
        seed = int(c1.number_input(t("sm.quiz_seed"), 0, 2**31 - 1, 1, key="sm_quiz", bind="query-params",
                                   help=t("sm.quiz_seed_help")))
        c2.button(t("sm.quiz_new"), on_click=new_question, icon=":material/casino:")
        try:
            q = make_question("cross_entropy", seed)
        except LabError as exc:
            lab_error(exc)
            return
        logits, target = q.settings["logits"], q.settings["target"]
        st.markdown(t("sm.quiz_question", logits=", ".join(f"{v:g}" for v in logits), target=target,
                      n=len(logits) - 1))
        guess = st.columns([1, 2])[0].number_input(t("sm.quiz_answer"), value=None, step=0.01, format="%.3f",
                                                   key=f"sm_quiz_guess_{seed}", placeholder=t("sm.quiz_placeholder"))
        shown = st.session_state.get(f"sm_quiz_show_{seed}", False)
        if guess is None and not shown:
            st.button(t("sm.quiz_reveal"), key=f"sm_quiz_show_{seed}_button",
                      on_click=lambda: st.session_state.update({f"sm_quiz_show_{seed}": True}))
            st.caption(t("sm.quiz_tolerance", tol=f"{TWO_DECIMALS:g}"))
            return
        if guess is not None:
            if q.check(guess):
                st.success(t("sm.quiz_right", guess=f"{guess:g}", answer=f"{q.answer:.4f}"), icon=":material/check:")
            else:
                st.warning(t("sm.quiz_wrong", guess=f"{guess:g}", answer=f"{q.answer:.4f}", tol=f"{q.tolerance:g}"),
                           icon=":material/close:")
        st.markdown("\n".join(f"{i}. {line}" for i, line in enumerate(worked_steps(q.steps, target), start=1)))


def worked_steps(steps, target: int) -> list[str]:
    """The quiz's worked answer, one line per step of core's computation."""
    v = {s.key: s.values for s in steps}
    exps = v["exps"]
    return [t("sm.quiz_step_shift", m=f"{v['shift'][0]:g}", v=listed(v["shifted"])),
            t("sm.quiz_step_exps", v=listed(exps)),
            t("sm.quiz_step_total", s=f"{v['total'][0]:.4f}"),
            t("sm.quiz_step_p", target=target, e=f"{exps[target]:.4f}", s=f"{v['total'][0]:.4f}",
              p=f"{v['p_target'][0]:.4f}"),
            t("sm.quiz_step_loss", p=f"{v['p_target'][0]:.4f}", loss=f"{v['loss'][0]:.4f}")]
