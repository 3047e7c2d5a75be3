"""Home: LeNet-5's whole pipeline for one digit, every channel of every layer, from the best finished run (or the
untrained network); a click on a channel opens the page that explains it, on this digit and channel."""
import streamlit as st

from core.data import to_model_input
from core.lenet import count_parameters, layer_table
from lab import cache, figures
from lab.nav import page_for
from lab.runs import run_name
from lab.snippets.home import home_script
from lab.ui import code_panel, explain, t
from lab.views import home as view

st.title(t("home.title"))
data = cache.digits()
best = cache.best_trained_run()  # (label, view) of the best finished run, or None
if best and cache.pipeline_outs(best[1].key, 0) is None:  # gone from the disk since it was listed
    best = None
model = best[1].done.model if best else cache.untrained_lenet()
shown = view.shown_of(model, best[0] if best else None, best[1].config.normalize if best else True)
run_key = best[1].key if best else ""


def clicked(key: str) -> None:
    """A click on a channel: remember which, the fragment opens its page (a callback cannot switch pages)."""
    points = getattr(getattr(st.session_state.get(key), "selection", None), "points", None) or []
    for point in points:
        custom = point.get("customdata")
        if isinstance(custom, list) and len(custom) == 2 and isinstance(custom[0], str):  # [layer, channel]
            st.session_state["home_go"] = (custom[0], int(custom[1]))
        elif custom is not None:  # a logit's bar: [class, value]
            st.session_state["home_go"] = ("fc3", -1)


@st.fragment
def pipeline() -> None:
    """The digit, the pipeline and its code: moving the digit reruns only this part."""
    pick, note = st.columns([2, 3], vertical_alignment="bottom")
    index = pick.slider(t("home.pick_digit"), 0, len(data.test_labels) - 1, 0, key="digit", bind="query-params")
    outs = cache.pipeline_outs(run_key, index)
    label, logits = int(data.test_labels[index]), outs["fc3"][0].tolist()
    go = st.session_state.pop("home_go", None)
    if go is not None:
        path, query = view.deep_link(go[0], go[1], index, shown, logits, label)
        spec = page_for(path)
        if spec is not None:
            st.switch_page(spec.path, query_params=query)
    who = (t("home.model_trained", label=run_name(best[1].config), acc=f"{cache.held_accuracy(best[1]):.1%}") if best
           else t("home.untrained_note"))
    note.caption(who + " " + t("home.prediction", pred=int(outs["fc3"][0].argmax()), label=label))
    traces, placed = cache.pipeline_traces(run_key, index, view.pipeline_traces)
    shapes = {name: "×".join(str(d) for d in outs[name].shape[1:]) for name, _, _ in view.COLUMNS}
    titles = {name: t(f"home.short_{name}", act=shown.activation) for name, _, _ in view.COLUMNS}
    key = "home_pipe"
    figures.show(view.pipeline_figure(traces, placed, titles, shapes, t("home.click_hint")), key=key,
                 on_select=lambda: clicked(key), selection_mode="points")
    st.caption(t("home.click_note"))
    chain = " → ".join(str(list(outs[n].shape)) for n in ("input", "conv1", "pool1", "conv2", "pool2", "flatten",
                                                          "fc1", "fc2", "fc3"))
    st.code(chain, language=None, wrap_lines=True)
    if best:
        st.caption(t("home.code_untrained"))
    code_panel(home_script(data.source, index))


pipeline()
explain("home.intro")

LINKS = {"input": "image_tensor", "conv1": "convolution", "conv2": "convolution", "act1": "activations",
         "act2": "activations", "act3": "activations", "act4": "activations", "pool1": "pooling",
         "pool2": "pooling", "flatten": "model_building", "fc1": "model_building", "fc2": "model_building",
         "fc3": "softmax"}
with st.expander(t("home.layers"), icon=":material/table_rows:"):
    rows = layer_table(model, to_model_input(data.test_images[:1], shown.normalize))
    widths = [3, 2, 1, 3]
    head = st.columns(widths)
    for col, key in zip(head, ("home.col_layer", "home.col_shape", "home.col_params", "home.col_page")):
        col.markdown(f"**{t(key)}**")
    for r in rows:  # one line per layer, each linked to the page that explains it
        c_name, c_shape, c_params, c_link = st.columns(widths, vertical_alignment="center")
        c_name.markdown(t(f"layer.{r.name}"))
        c_shape.code(str(list(r.shape)), language=None)
        c_params.markdown(f"{r.params:,}")
        spec = page_for(LINKS.get(r.name, ""))
        if spec is not None:
            c_link.page_link(spec.path, label=t(spec.title), icon=spec.icon)
st.metric(t("home.total_params"), f"{count_parameters(model):,}")

st.subheader(t("home.next"))
training = page_for("training")
if training is not None:
    st.page_link(training.path, label=t(training.title), icon=training.icon)
