"""Pooling: max and average side by side on a real feature map, the winner of each window (every window in one
figure whose slider and Play run in the browser), a question to work out, and the backward pass."""
import streamlit as st

from core.conv import KERNELS, conv_trace
from core.data import to_unit
from core.errors import LabError
from core.pooling import NOTES_PATCH, NOTES_RAMP, NOTES_SMALL, pool_trace
from lab import cache, ui
from lab.figures import show
from lab.snippets.pooling import pool_script
from lab.ui import code_panel, explain, lab_error, t, url_choice
from lab.views import conv as grids, pooling as view

PLOT_H = 340
STRIDES = ("same", "1", "2", "3", "4")

st.title(t("pool.title"))
explain("pool.intro")

# 1. the course's examples, computed
st.subheader(t("pool.notes"))
for col, (name, x) in zip(st.columns(3), (("ramp", NOTES_RAMP), ("patch", NOTES_PATCH), ("small", NOTES_SMALL))):
    mx, av = pool_trace(x, "max", 2), pool_trace(x, "avg", 2)
    show(grids.grid_figure(x, t(f"pool.notes_{name}"), "Blues", None, height=200), col, static=True)
    col.markdown(t("pool.notes_result", max=view.matrix(mx.output), avg=view.matrix(av.output)))
explain("pool.why_max")

# 2. a real feature map, window by window
st.subheader(t("pool.explore"))
data = cache.digits()
c1, c2, c3 = st.columns(3)
source = url_choice(c1.selectbox, t("pool.source"), ["fmap", "ramp"], key="pool_src",
                    format_func=lambda s: t(f"pool.src_{s}"))
digit = None
if source == "fmap":
    kname = url_choice(c2.selectbox, t("pool.conv_kernel"), list(KERNELS), key="pool_kernel",
                       format_func=lambda k: t(f"conv.k_{k}"))
    digit = c3.slider(t("conv.digit"), 0, len(data.test_labels) - 1, 0, key="pool_digit", bind="query-params")
    x = conv_trace(to_unit(data.test_images[digit]), KERNELS[kname], padding=1).output  # (28, 28) feature map
    st.caption(t("pool.fmap_note", label=int(data.test_labels[digit])))
else:
    kname, x = None, NOTES_RAMP
s1, s2, s3 = st.columns(3)
size = s1.slider(t("pool.size"), 1, 4, 2, key="pool_k", bind="query-params")
stride_choice = url_choice(s2.segmented_control, t("pool.stride"), STRIDES, key="pool_stride",
                           format_func=lambda s: t("pool.stride_same") if s == "same" else s, help=t("pool.stride_help"))
with s3, ui.secondary():  # folded away in presenter mode
    padding = st.slider(t("pool.padding"), 0, 2, 0, key="pool_pad", bind="query-params", help=t("pool.padding_help"))
stride = None if stride_choice == "same" else int(stride_choice)
try:
    mx, av = pool_trace(x, "max", size, stride, padding), pool_trace(x, "avg", size, stride, padding)
except LabError as exc:
    lab_error(exc)
    st.stop()
h_out, w_out = mx.output.shape
st.caption(t("pool.shape", h=x.shape[0], w=x.shape[1], h_out=h_out, w_out=w_out))
digits = 2


@st.fragment
def stepper() -> None:
    """Every window in one figure (frames): the map with its winner, both outputs filling in, both windows' sums."""
    row, col = grids.linked_cell("pool", h_out, w_out, default=(h_out // 2, w_out // 2))
    grids.band_choice("pool", h_out, w_out, row)
    first, last = grids.frame_range(h_out, w_out, row)
    fig = view.pool_stepper(x, mx, av, first, last, row * w_out + col, digits)
    n = len(fig["data"])
    grids.step_through(fig, "pool", [n - 2, n - 1])
    st.caption(t("pool.step_hint"))
    if padding:
        st.caption(t("pool.padding_note"))


stepper()


@st.fragment
def quiz() -> None:
    """Your turn: one pooled value from the question number in the link."""
    st.markdown(t("conv.quiz_intro"))
    seed = grids.quiz_seed()
    with st.container(border=True):
        grids.quiz_question("pool_value", seed)


with st.expander(t("pool.quiz_title"), grids.QUIZ_SEED in st.query_params, icon=":material/quiz:"):
    quiz()

# 3. the backward pass
st.subheader(t("pool.backward"))
explain("pool.backward_intro")
g1, g2 = st.columns(2)
for c, trace, kind in ((g1, mx, "max"), (g2, av, "avg")):
    show(grids.grid_figure(trace.grad_input, t(f"pool.grad_{kind}"), "Greens", None, digits, PLOT_H,
                           (0.0, max(float(trace.grad_input.max()), 1e-12))), c, static=True)
    c.metric(t("pool.receivers"), t("pool.receivers_value", n=int((trace.grad_input != 0).sum()),
                                    total=trace.grad_input.numel()))
explain("pool.backward_note")
flat = sum(s.tied for s in mx.steps)
if flat:
    st.caption(t("pool.ties", n=flat, total=len(mx.steps)))
code_panel(pool_script(x, source, digit, kname, data.source, size, stride, padding))
