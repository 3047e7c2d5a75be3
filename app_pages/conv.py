"""Convolution: a kernel slides over a picture; every product and sum shown, the output map filling in. The
step-through is one figure whose frames hold every step: the slider and Play run in the browser, not on the server."""
import streamlit as st
import torch

from core.conv import KERNELS, NOTES_CLAIMED_TOP_LEFT, NOTES_IMAGE, background, colour_digit, conv_trace, shrink
from core.data import normalize, to_unit
from core.errors import LabError
from lab import cache, ui
from lab.runs import run_name
from lab.snippets.conv import conv_script, image_code
from lab.ui import code_panel, explain, fmt, lab_error, t, url_choice
from lab.views import conv as view

SOURCES = ("notes", "digit", "colour", "draw", "upload", "grid")

st.title(t("conv.title"))
explain("conv.intro")
data = cache.digits()
trained_models = getattr(cache, "trained_models", None)
try:
    trained = trained_models() if trained_models else {}
except Exception:  # no finished run can be read: offer no learned filters
    trained = {}

ctl, col_fig = st.columns([1, 2.75], gap="medium")  # the controls beside the picture: both on the first screen
source = url_choice(ctl.selectbox, t("conv.input"), SOURCES, key="conv_src",
                    format_func=lambda s: t(f"conv.src_{s}"))


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
with ctl:
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
kernel_names = [*KERNELS, "grid", *(["lenet"] if trained else [])]
kname = url_choice(ctl.selectbox, t("conv.kernel"), kernel_names, key="conv_kernel",
                   format_func=lambda k: t(f"conv.k_{k}"), help=t("conv.kernel_help"))
bias, per_channel = None, False
with ctl:
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
        names = cache.trained_configs() if trained_models else {}
        label = url_choice(k1.selectbox, t("conv.model"), list(trained), key="conv_model",
                           format_func=lambda k: run_name(names[k]) if k in names else k)
        conv1 = trained[label].conv1
        filters = conv1.out_channels  # 6 in the classic LeNet-5; a designed one may have 2 or 16
        ui.keep_within("conv_filter", filters)
        f = min(int(k2.slider(t("conv.filter"), 1, max(filters, 2), 1, key="conv_filter", bind="query-params",
                              disabled=filters == 1)), filters)
        kernel2d, bias = conv1.weight[f - 1, 0].detach(), float(conv1.bias[f - 1].detach())
        st.caption(t("conv.lenet_note", label=run_name(names[label]) if label in names else label,
                     pad=int(conv1.padding[0])))
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
if image is None:  # nothing drawn or uploaded yet: the message above says what to do
    st.stop()

# 3. padding, stride, dilation and the bias; a normalised digit can be padded with its background, not zeros
with ctl:
    padding = st.slider(t("conv.padding"), 0, 3, 0, key="conv_pad", bind="query-params", help=t("conv.padding_help"))
    stride = st.slider(t("conv.stride"), 1, 3, 1, key="conv_stride", bind="query-params", help=t("conv.stride_help"))
    with ui.secondary():  # folded away in presenter mode
        dilation = st.slider(t("conv.dilation"), 1, 3, 1, key="conv_dil", bind="query-params",
                             help=t("conv.dilation_help"))
        if bias is None:  # (a learned filter brings its own)
            bias = st.number_input(t("conv.bias"), -10.0, 10.0, 0.0, 0.5, key="conv_bias", bind="query-params")
    paper = background(True)  # the -1 that Normalize makes of an empty pixel
    framed = norm and channels == 1 and padding > 0  # zeros next to a -1 background: an edge all round the map
    pad_value = paper if framed and st.toggle(t("conv.pad_background", value=fmt(paper)), key="conv_padbg",
                                              bind="query-params", help=t("conv.pad_background_help")) else 0.0
try:
    trace = conv_trace(image, kernel, bias, stride, padding, dilation, pad_value)
except LabError as exc:
    lab_error(exc)
    st.stop()
h, w = image.shape[-2:]
kh, kw = kernel.shape[-2:]
h_out, w_out = trace.output.shape
digits = 3 if kname == "lenet" or norm else 2
code_input = image_code(source, image, picture, digit_index, norm, data.source)

# 4. the sliding window: every step in one figure (frames), so the slider and Play cost the server nothing
if channels > 1:
    explain("conv.channels_intro")


@st.fragment
def stepper() -> None:
    """The step-through figure (a click on an output cell reruns only this), its notes and the code panel."""
    row, col = view.linked_cell("conv", h_out, w_out)
    limit = view.frame_limit(channels)
    view.band_choice("conv", h_out, w_out, row, limit)
    first, last = view.frame_range(h_out, w_out, row, limit)
    fig = view.conv_stepper(trace, h, w, first, last, row * w_out + col, digits)
    view.step_through(fig, "conv", [len(fig["data"]) - 1])
    st.caption(t("conv.step_hint"))
    if source == "notes" and kname == "vertical" and (padding, stride, dilation) == (0, 1, 1):
        # the notes' claim is about the products' sum, before any bias
        st.info(t("conv.notes_slip_top_left", claimed=fmt(NOTES_CLAIMED_TOP_LEFT),
                  true=fmt(float(trace.steps[0].channel_sums.sum()))), icon=":material/edit_note:")
    if framed:
        st.caption(t("conv.border_background" if pad_value else "conv.border_zeros", value=fmt(paper)))
    code_panel(conv_script(code_input, kernel, bias, stride, padding, dilation, row, col, pad_value))


with col_fig:
    stepper()

# 5. the output size, and a question to work out before the page shows it
asked = view.QUIZ_SEED in st.query_params  # a link with a question number opens on the question
size_tab, quiz_tab = st.tabs([t("conv.tab_size"), t("conv.tab_quiz")], default=t("conv.tab_quiz") if asked else None)
size_tab.latex(view.size_formula("H", h, kh, padding, dilation, stride, h_out))
size_tab.latex(view.size_formula("W", w, kw, padding, dilation, stride, w_out))


@st.fragment
def quiz() -> None:
    """Your turn: a window's sum and an output size from the question number in the link."""
    st.markdown(t("conv.quiz_intro"))
    seed = view.quiz_seed()
    left, right = st.columns([3, 2], gap="large")
    with left.container(border=True):
        st.markdown(f"**{t('conv.quiz_sum_title')}**")
        view.quiz_question("conv_sum", seed)
    with right.container(border=True):
        st.markdown(f"**{t('conv.quiz_size_title')}**")
        view.quiz_question("output_size", seed)


with quiz_tab:
    quiz()
