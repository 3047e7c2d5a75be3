"""Activation functions: f and f' (autograd), the course's values, vanishing gradients (and the initialisation that
prevents them), a real feature map, dead ReLUs."""
import streamlit as st
import torch

from core.activations import (NAMES, STACK_ACTS, STACK_DEPTH, STACK_INITS, evaluate, feature_map, init_for,
                              prelu_alpha_grad, saturated_ranges)
from core.data import to_model_input
from core.errors import LabError
from core.lenet import LeNetConfig
from lab import cache, figures
from lab.runs import run_name
from lab.snippets.activations import stack_code, values_code
from lab.ui import code_panel, explain, keep_within, lab_error, lang, t, url_choice, url_multiselect
from lab.views import activations as view


st.title(t("act.title"))
explain("act.intro")

# 1. f and f' on one chart (its slope also shapes the feature map below: not a fragment)
chosen = url_multiselect(t("act.choose"), list(NAMES), "act_set", ["tanh", "relu"], format_func=lambda n: t(f"act.name_{n}"))
c1, c2 = st.columns(2)
slope = c1.slider(t("act.slope"), 0.0, 0.5, 0.1, 0.01, key="act_slope", bind="query-params", help=t("act.slope_help"))
span = c2.slider(t("act.range"), 1.0, 10.0, 5.0, 0.5, key="act_range", bind="query-params")
params = {"leaky_relu": {"negative_slope": slope}, "prelu": {"init": slope}}  # PReLU starts from the same slope


def functions() -> dict:
    """The chosen activations' curves (a cached dict: the same settings draw the same chart for every student)."""
    x = torch.linspace(-span, span, 401)
    curves = []
    for name in chosen:
        v = evaluate(name, x, **params.get(name, {}))
        curves.append((name, v, saturated_ranges(v)))
    return view.functions_figure(curves)


try:
    figures.show(cache.view_figure("activations.functions", (lang(), tuple(chosen), slope, span), functions))
except LabError as exc:
    lab_error(exc)
st.caption(t("act.saturation_note"))
if "prelu" in chosen:
    alpha, alpha_grad = prelu_alpha_grad(torch.linspace(-span, span, 401), init=slope)
    st.info(t("act.prelu_note", alpha=f"{alpha:g}", grad=f"{alpha_grad:.4g}", span=f"{span:g}"), icon=":material/tune:")

# 2. the course's values, computed
st.subheader(t("act.course_values"))
explain("act.course_values_intro")
cols = st.columns(2)
for col, (name, points) in zip(cols, (("tanh", [-2.0, 0.0, 2.0]), ("relu", [-3.0, 0.0, 2.0]))):
    v = evaluate(name, points)
    col.markdown(f"**{t(f'act.name_{name}')}**")
    col.dataframe({"x": v.x.tolist(), "f(x)": [f"{y:.4f}" for y in v.y.tolist()],
                   "f'(x)": [f"{d:.4f}" for d in v.dy.tolist()]}, hide_index=True, width="stretch")
    with col:
        code_panel(values_code(name, points))
st.caption(t("act.kink_note"))


@st.fragment
def vanishing() -> None:
    """3. Vanishing gradients in real deep stacks: by default each activation with its matching initialisation."""
    st.subheader(t("act.vanish"))
    explain("act.vanish_intro")
    init = url_choice(st.segmented_control, t("act.init"), list(STACK_INITS), key="act_init",
                      format_func=lambda k: t(f"act.init_{k}"))
    depth = st.columns([1, 2])[0].slider(t("act.depth"), 2, 30, STACK_DEPTH, key="act_depth", bind="query-params")
    results = {n: cache.stack_gradients(n, depth, init) for n in STACK_ACTS}  # 64 test digits, seed 0
    ratios = {n: view.ratio_text(r.weight_grad_norm[0] / r.weight_grad_norm[-1]) for n, r in results.items()}
    story = "matched" if init == "matched" else "default" if init == "default" else "shared"
    st.info(t(f"act.vanish_story_{story}", depth=depth, init=t(f"act.init_name_{init}"), suits=t(f"act.init_suits_{init}"),
              dead=f"{results['relu'].dead_fraction.max():.0%}", **ratios), icon=":material/lightbulb:")
    figures.show(cache.view_figure("activations.vanishing", (lang(), depth, init),
                                   lambda: view.vanishing_figure(results, depth)))
    st.dataframe([{t("act.col_act"): t(f"act.name_{n}"), t("act.col_init"): t(f"act.init_name_{init_for(n, init)}"),
                   t("act.col_first"): f"{r.weight_grad_norm[0]:.2e}", t("act.col_last"): f"{r.weight_grad_norm[-1]:.2e}",
                   t("act.col_ratio"): f"{r.weight_grad_norm[0] / r.weight_grad_norm[-1]:.2e}",
                   t("act.col_dead"): f"{r.dead_fraction.max():.0%}" if n == "relu" else "—"}
                  for n, r in results.items()], hide_index=True, width="stretch")
    code_panel(stack_code("relu", depth, init_for("relu", init), cache.digits().source))


@st.fragment
def lenet_sections() -> None:
    """4. A real feature map before and after the activation; 5. dead ReLUs in LeNet (the same model)."""
    st.subheader(t("act.fmap"))
    explain("act.fmap_intro")
    data = cache.digits()
    trained = cache.trained_models()
    c1, c2, c3 = st.columns(3)
    clean = [k for k in trained if "mistake=" not in k]  # runs from the pitfalls lab are broken on purpose
    default = next((k for k in clean if trained[k].config.activation == "relu"), next(iter(clean), "untrained"))
    names = cache.trained_configs()
    source = url_choice(c1.selectbox, t("act.model"), ["untrained", *trained], key="act_model", default=default,
                        format_func=lambda k: t("act.untrained") if k == "untrained" else
                        run_name(names[k]) if k in names else k)
    model = trained.get(source) or cache.untrained_lenet()
    fmap_act = url_choice(c2.selectbox, t("act.fmap_act"), list(NAMES), key="act_fmap", default="relu",
                          format_func=lambda n: t(f"act.name_{n}"))
    index = c3.slider(t("act.digit"), 0, len(data.test_labels) - 1, 0, key="act_digit", bind="query-params")
    if source == "untrained":
        st.caption(t("act.untrained_note"))
    digit = to_model_input(data.test_images[index:index + 1])  # (1, 1, 28, 28)
    pre, post = feature_map(model, digit, fmap_act, **params.get(fmap_act, {}))  # (C1, H, W) each: C1 = 6 in LeNet-5
    maps = pre.shape[0]  # a designed network may have 2 or 16 conv1 channels
    keep_within("act_channel", maps)
    channel = min(int(st.slider(t("act.channel"), 1, max(maps, 2), 1, key="act_channel", bind="query-params",
                                disabled=maps == 1)), maps)
    key = (lang(), source, data.source, fmap_act, slope, index, channel)
    figures.show(cache.view_figure("activations.feature_map", key,
                                   lambda: view.feature_map_figure(pre, post, channel, fmap_act)))
    zero_share = float((post == 0).float().mean())
    m1, m2, m3 = st.columns(3)
    m1.metric(t("act.range_before"), f"[{pre.min():.2f}, {pre.max():.2f}]")
    m2.metric(t("act.range_after"), f"[{post.min():.2f}, {post.max():.2f}]")
    m3.metric(t("act.zero_share"), f"{zero_share:.1%}")

    st.subheader(t("act.dead"))
    explain("act.dead_intro")
    relu_model = model if model.config.activation == "relu" else cache.untrained_lenet(LeNetConfig(activation="relu"))
    shift = st.slider(t("act.shift"), -2.0, 1.0, 0.0, 0.1, key="act_shift", bind="query-params", help=t("act.shift_help"))
    dead = cache.dead_units(source if relu_model is model else "untrained relu", shift, relu_model)
    st.caption(t("act.dead_model", model=source) if relu_model is model and source != "untrained"
               else t("act.dead_untrained"))
    figures.show(cache.view_figure("activations.dead", (lang(), tuple(dead.items())), lambda: view.dead_figure(dead)))


vanishing()
lenet_sections()
