"""Convolution: a kernel slides over a picture; every multiplication and sum shown, the output map filling in."""
import streamlit as st
import torch

from core.conv import KERNELS, NOTES_CLAIMED_TOP_LEFT, NOTES_IMAGE, colour_digit, conv_trace, shrink
from core.data import normalize, to_unit
from core.errors import LabError
from lab import cache, ui
from lab.snippets.conv import conv_script, image_code
from lab.ui import code_panel, explain, lab_error, t, url_choice
from lab.views import conv as view

SOURCES = ("notes", "digit", "colour", "draw", "upload", "grid")
SPEEDS = {"slow": 1.2, "normal": 0.7, "fast": 0.35}  # seconds per step while playing (a rerun takes ~0.1-0.3 s)
PLOT_H = 380

st.title(t("conv.title"))
explain("conv.intro")
data = cache.digits()
trained_models = getattr(cache, "trained_models", None)
try:
    trained = trained_models() if trained_models else {}
except Exception:  # no finished run can be read: offer no learned filters
    trained = {}

col_in, col_k = st.columns(2, gap="large")
source = url_choice(col_in.selectbox, t("conv.input"), SOURCES, key="conv_src",
                    format_func=lambda s: t(f"conv.src_{s}"))
kernel_names = [*KERNELS, "grid", *(["lenet"] if trained else [])]
kname = url_choice(col_k.selectbox, t("conv.kernel"), kernel_names, key="conv_kernel",
                   format_func=lambda k: t(f"conv.k_{k}"), help=t("conv.kernel_help"))


def drawn_digit() -> torch.Tensor | None:
    """The digit drawn on the canvas, MNIST style (uint8 28x28), or None while the canvas is empty."""
    from streamlit_drawable_canvas import st_canvas  # importing it outside a running page raises
    from core.images import canvas_to_digit

    canvas = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=224, width=224,
                       drawing_mode="freedraw", key="conv_canvas", return_image_data=True)
    try:
        if canvas is None or canvas.image_data is None:
            raise LabError("image.empty_canvas")
        return canvas_to_digit(canvas.image_data)
    except LabError as exc:
        st.info(t(f"errors.{exc.code}", **exc.params), icon=":material/draw:")
        return None


def uploaded() -> torch.Tensor | None:
    """An uploaded picture: grey MNIST-style 28x28, or its colours shrunk to 28 px for the multi-channel view."""
    from core.images import MAX_UPLOAD_MB, load_picture, to_digit

    file = st.file_uploader(t("conv.upload"), type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"],
                            key="conv_upload", max_upload_size=MAX_UPLOAD_MB)
    colour = st.toggle(t("conv.keep_colour"), key="conv_rgb", bind="query-params", help=t("conv.keep_colour_help"))
    if file is None:
        st.info(t("conv.upload_first"), icon=":material/upload:")
        return None
    try:
        pic = load_picture(file.getvalue(), file.name)
        return shrink(pic.rgb, 28) if colour else to_digit(pic.grey)
    except LabError as exc:
        lab_error(exc)
        return None


# 1. the input: a tensor (H, W) or (C, H, W)
digit_index, picture, image = None, None, None
with col_in:
    if source == "notes":
        image = NOTES_IMAGE
        st.caption(t("conv.notes_input"))
    elif source in ("digit", "colour"):
        digit_index = st.slider(t("conv.digit"), 0, len(data.test_labels) - 1, 0, key="conv_digit",
                                bind="query-params")
        picture = data.test_images[digit_index]  # (28, 28) uint8
        if source == "colour":
            picture = colour_digit(picture)  # (3, 28, 28) uint8
        st.caption(t("conv.digit_label", label=int(data.test_labels[digit_index])))
    elif source == "draw":
        picture = drawn_digit()
    elif source == "upload":
        picture = uploaded()
    else:
        g1, g2 = st.columns(2)
        gh = g1.number_input(t("conv.rows"), 1, 12, 5, key="conv_gh", bind="query-params")
        gw = g2.number_input(t("conv.cols"), 1, 12, 5, key="conv_gw", bind="query-params")
        image = ui.url_grid(t("conv.grid_help"), "conv_grid", NOTES_IMAGE, int(gh), int(gw))
    norm = False
    if source in ("digit", "colour", "draw", "upload"):
        norm = st.toggle(t("conv.normalize"), key="conv_norm", bind="query-params", help=t("conv.normalize_help"))
if picture is not None:
    image = normalize(to_unit(picture)) if norm else to_unit(picture)  # ToTensor (and Normalize) as the course does
channels = image.shape[0] if image is not None and image.dim() == 3 else 1

# 2. the kernel (C, kh, kw) and bias
bias, per_channel = None, False
with col_k:
    if kname == "grid":
        k1, k2 = st.columns(2)
        kh = k1.number_input(t("conv.k_rows"), 1, 7, 3, key="conv_kh", bind="query-params")
        kw = k2.number_input(t("conv.k_cols"), 1, 7, 3, key="conv_kw", bind="query-params")
        per_channel = channels > 1 and st.toggle(t("conv.per_channel"), False, key="conv_kper", bind="query-params",
                                                 help=t("conv.per_channel_help"))
        if per_channel:  # one grid per colour channel: three different slices of one kernel
            kernel = torch.stack([ui.url_grid(t("conv.kgrid_channel", channel=n), f"conv_kgrid_{n.lower()}",
                                              KERNELS["vertical"], int(kh), int(kw)) for n in "RGB"])  # (3, kh, kw)
        else:
            kernel2d = ui.url_grid(t("conv.kgrid_help"), "conv_kgrid", KERNELS["vertical"], int(kh), int(kw))
    elif kname == "lenet":
        k1, k2 = st.columns(2)
        label = url_choice(k1.selectbox, t("conv.model"), list(trained), key="conv_model")
        f = k2.slider(t("conv.filter"), 1, 6, 1, key="conv_filter", bind="query-params")
        conv1 = trained[label].conv1
        kernel2d, bias = conv1.weight[f - 1, 0].detach(), float(conv1.bias[f - 1].detach())
        st.caption(t("conv.lenet_note", label=label))
    else:
        kernel2d = KERNELS[kname]
    if per_channel:
        st.caption(t("conv.rgb_kernel_own"))
    elif channels > 1:
        st.caption(t("conv.rgb_kernel"))
        weights = [w.number_input(t(f"conv.weight_{n}"), -5.0, 5.0, 1.0, 0.5, key=f"conv_w{n}", bind="query-params")
                   for w, n in zip(st.columns(3), "rgb")]
        kernel = torch.stack([kernel2d * w for w in weights])  # (3, kh, kw)
    else:
        kernel = kernel2d
    if bias is None:
        bias = st.number_input(t("conv.bias"), -10.0, 10.0, 0.0, 0.5, key="conv_bias", bind="query-params")
if image is None:  # nothing drawn or uploaded yet: the message above says what to do
    st.stop()

# 3. padding, stride, dilation and the output size
s1, s2, s3 = st.columns(3)
padding = s1.slider(t("conv.padding"), 0, 3, 0, key="conv_pad", bind="query-params", help=t("conv.padding_help"))
stride = s2.slider(t("conv.stride"), 1, 3, 1, key="conv_stride", bind="query-params", help=t("conv.stride_help"))
dilation = s3.slider(t("conv.dilation"), 1, 3, 1, key="conv_dil", bind="query-params", help=t("conv.dilation_help"))
try:
    trace = conv_trace(image, kernel, bias, stride, padding, dilation)
except LabError as exc:
    lab_error(exc)
    st.stop()
h, w = image.shape[-2:]
kh, kw = kernel.shape[-2:]
h_out, w_out = trace.output.shape
st.latex(view.size_formula("H", h, kh, padding, dilation, stride, h_out))
st.latex(view.size_formula("W", w, kw, padding, dilation, stride, w_out))
digits = 3 if kname == "lenet" or norm else 2

# 4. the sliding window
if channels > 1:
    explain("conv.channels_intro")
st.subheader(t("conv.slide"))
p1, p2 = st.columns([1, 2])
playing = ui.cell_play_toggle("conv", t("conv.play"), t("conv.play_help"), where=p1)
speed = url_choice(p2.segmented_control, t("conv.speed"), list(SPEEDS), key="conv_speed", default="normal",
                   format_func=lambda s: t(f"conv.speed_{s}"), label_visibility="collapsed")


def jump(key: str) -> None:
    """A click on an output cell moves the window there."""
    cell = ui.clicked_cell(key)
    if cell is not None:
        st.session_state["conv_row"], st.session_state["conv_col"] = cell
        st.session_state["conv_clicks"] = st.session_state.get("conv_clicks", 0) + 1


def stepper() -> None:
    """Position sliders, the input with the window, the output filling in, and the arithmetic of one cell."""
    if playing:
        ui.play_step("conv", h_out, w_out, SPEEDS[speed])
    else:
        ui.sync_position("conv")
    row, col = ui.position("conv_row", "conv_col", h_out, w_out, (t("conv.row"), t("conv.col")), disabled=playing)
    step = trace.step(row, col)
    left, right = st.columns(2)
    left.plotly_chart(view.conv_input_figure(trace, row, col, h, w, t("conv.input_title"), PLOT_H, digits),
                      width="stretch")
    key = f"conv_click_{st.session_state.get('conv_clicks', 0)}"
    right.plotly_chart(view.output_figure(trace.output, row, col, t("conv.output_title"), PLOT_H, digits),
                       width="stretch", key=key, on_select=lambda: jump(key), selection_mode="points")
    right.caption(t("conv.click_hint"))
    view.conv_cell(step, trace, digits, bias)
    if source == "notes" and kname == "vertical" and (padding, stride, dilation, row, col) == (0, 1, 1, 0, 0):
        # the notes' claim is about the products' sum, before any bias
        st.info(t("conv.notes_slip", claimed=ui.fmt(NOTES_CLAIMED_TOP_LEFT), true=ui.fmt(float(step.channel_sums.sum()))),
                icon=":material/edit_note:")
    code_panel(conv_script(code_input, kernel, bias, stride, padding, dilation, row, col))


code_input = image_code(source, image, picture, digit_index, norm, data.source)
st.fragment(stepper, run_every=SPEEDS[speed] if playing else None)()
