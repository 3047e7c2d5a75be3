"""Home: what LeNet-5 is, and its whole pipeline from a real forward pass."""
import streamlit as st
import torch

from core.data import to_model_input
from core.lenet import count_parameters, layer_table
from lab import cache
from lab.nav import page_for
from lab.snippets.home import home_script
from lab.ui import code_panel, explain, t
from lab.views import home as view

st.title(t("home.title"))
explain("home.intro")

data = cache.digits()
index = st.slider(t("home.pick_digit"), 0, len(data.test_labels) - 1, 0, key="digit", bind="query-params")
model = cache.untrained_lenet()
x = to_model_input(data.test_images[index : index + 1])  # (1, 1, 28, 28)
rows = layer_table(model, x)
with torch.no_grad():
    outs = model.forward_all(x)

st.subheader(t("home.pipeline"))
st.caption(t("home.untrained_note"))
st.plotly_chart(view.pipeline_figure(outs), width="stretch")

shapes = " → ".join(str(list(r.shape)) for r in rows if r.name in ("input", "conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2", "fc3"))
st.code(shapes, language=None)

LINKS = {"input": "image_tensor", "conv1": "convolution", "conv2": "convolution", "act1": "activations",
         "act2": "activations", "act3": "activations", "act4": "activations", "pool1": "pooling",
         "pool2": "pooling", "flatten": "model_building", "fc1": "model_building", "fc2": "model_building",
         "fc3": "softmax"}
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

code_panel(home_script(data.source, index))
