"""Image to tensor: a real digit as 0-255 numbers (the whole digit, and a window zoomed in far enough to read every
value), ToTensor's [0, 1], Normalize, their statistics and histograms, data augmentation, why normalization helps (two
short seeded trainings in the background), then [C, H, W] vs [H, W, C] on a colour picture."""
import streamlit as st

from core.course import COURSE_RUN
from core.errors import LabError
from core.images import MAX_SIDE, MAX_UPLOAD_MB, Picture, load_picture
from core.pitfalls import pitfall_pair
from core.image_tensor import NORMS, digit_stages, histogram, pixel_both_ways, preview, sample_picture, stats, to_tensor
from core.image_tensor import WINDOWS, window
from lab import cache, figures
from lab.views.image_tensor import STAGE_COLORS, augmented_figure, channels_figure, histograms, value_grid
from lab.runs import CORRECT, MISTAKE, Run, finished, results, watch
from lab.snippets.image_tensor import image_script
from lab.ui import code, code_panel, explain, lab_error, t, url_choice

STAGES = ("raw", "unit", "normalized")
BINS = 25
ZOOM_FONT = {7: 17, 10: 14, 14: 11, 28: 7}  # numbers in the zoomed window: readable from the back at 7 and 10


st.title(t("image_tensor.title"))
explain("image_tensor.intro")
data = cache.digits()

st.subheader(t("image_tensor.grid_header"))
left, mid, right = st.columns([3, 4, 3])
index = left.slider(t("image_tensor.digit"), 0, len(data.test_labels) - 1, 0, key="it_digit", bind="query-params")
with mid:
    norm = url_choice(st.segmented_control, t("image_tensor.norm"), list(NORMS), key="it_norm",
                      format_func=lambda n: t(f"image_tensor.norm_{n}"))
with right:
    stage = url_choice(st.selectbox, t("image_tensor.stage"), list(STAGES), key="it_stage",
                       format_func=lambda s: t(f"image_tensor.stage_{s}"))
mean, std = cache.norm_of(norm, data.source)
digit = digit_stages(data.test_images[index], mean, std)
st.caption(t("image_tensor.label", label=int(data.test_labels[index]), mean=f"{mean:.4f}", std=f"{std:.4f}"))
shown = digit.tensors[stage]
grid = shown if shown.dim() == 2 else shown[0]  # (28, 28)
decimals = 0 if stage == "raw" else 2


@st.fragment
def zoom_window() -> None:
    """The whole digit with a framed window, and the window large enough to read each number (a projector's back row
    cannot read 784 numbers at once): moving the window reruns only this part."""
    whole, close = st.columns([2, 3])
    h, w = grid.shape
    picture = whole.container()  # the whole digit on top, its window's controls under it
    size = url_choice(whole.segmented_control, t("image_tensor.window"), list(WINDOWS), key="it_win", default=10,
                      format_func=lambda n: f"{n}×{n}")
    for key, most in (("it_win_r", h - size), ("it_win_c", w - size)):
        if st.session_state.get(key, 0) > most:  # a larger window than before: keep it inside the digit
            st.session_state[key] = most
    s_row, s_col = whole.columns(2)
    top = s_row.slider(t("image_tensor.window_row"), 0, max(h - size, 1), min(9, h - size), key="it_win_r",
                       bind="query-params", disabled=size >= h)
    first = s_col.slider(t("image_tensor.window_col"), 0, max(w - size, 1), min(9, w - size), key="it_win_c",
                         bind="query-params", disabled=size >= w)
    part, (r0, c0) = window(grid, size, top, first)
    figures.show(value_grid(grid, None, height=250, zrange=digit.ranges[stage], frame=(r0, c0, size)), where=picture,
                 key="it_whole")
    figures.show(value_grid(part, decimals, height=430, zrange=digit.ranges[stage], origin=(r0, c0),
                            font=ZOOM_FONT[size], axes=(t("image_tensor.axis_col"), t("image_tensor.axis_row"))),
                 where=close, key="it_zoom")


zoom_window()
explain(f"image_tensor.stage_{stage}_explain")

numbers, augment_tab, why = st.tabs([t("image_tensor.stats_header"), t("image_tensor.aug_header"),
                                     t("image_tensor.why_header")])
with numbers:
    rows = []
    for name in STAGES:
        s = stats(digit.tensors[name])
        rows.append({t("image_tensor.col_stage"): t(f"image_tensor.stage_{name}"),
                     t("image_tensor.col_shape"): str(list(s.shape)), t("image_tensor.col_dtype"): s.dtype,
                     "min": f"{s.minimum:.3f}", "max": f"{s.maximum:.3f}", t("image_tensor.col_mean"): f"{s.mean:.3f}",
                     t("image_tensor.col_std"): f"{s.std:.3f}"})
    st.dataframe(rows, hide_index=True, width="stretch")
    hists = [histogram(digit.tensors[n].float(), BINS, *digit.ranges[n]) for n in STAGES]
    figures.show(histograms(hists, [t(f"image_tensor.stage_{n}") for n in STAGES], STAGE_COLORS,
                            [t(f"image_tensor.hist_x_{n}") for n in STAGES], t("image_tensor.count")))
    st.caption(t("image_tensor.hist_note"))


@st.fragment
def augmentation() -> None:
    """RandomAffine copies of the digit: its sliders rerun only this part."""
    explain("image_tensor.aug_intro")
    a1, a2, a3, a4 = st.columns(4)
    degrees = a1.slider(t("image_tensor.aug_degrees"), 0, 45, 15, key="it_aug_deg", bind="query-params")
    shift = a2.slider(t("image_tensor.aug_shift"), 0.0, 0.3, 0.1, 0.05, key="it_aug_shift", bind="query-params")
    zoom_ = a3.slider(t("image_tensor.aug_zoom"), 0.0, 0.3, 0.1, 0.05, key="it_aug_zoom", bind="query-params")
    aug_seed = int(a4.number_input(t("image_tensor.seed"), 0, 99, 0, key="it_aug_seed", bind="query-params"))
    aug = cache.augmented(data.source, index, 8, float(degrees), float(shift), float(zoom_), aug_seed)
    figures.show(augmented_figure(aug), static=True)
    code(f"transform = v2.RandomAffine(degrees={degrees}, translate=({shift:g}, {shift:g}), "
         f"scale=({1 - zoom_:g}, {1 + zoom_:g}))\ntorch.manual_seed({aug_seed})\n"
         f"copies = [transform(x) for _ in range(8)]  # x: the digit after ToTensor, [1, 28, 28]", language="python")


def why_normalize() -> None:
    """Two background runs, with and without Normalize, through the training queue (on Start): no seed from a link
    trains in the page. (Not a fragment: the runs' widget has its own, which reruns the page when they finish.)"""
    explain("image_tensor.why_intro")
    seed = st.number_input(t("image_tensor.seed"), 0, 99, 0, key="it_seed", bind="query-params")
    correct, raw_run = pitfall_pair("no_normalize", COURSE_RUN.but(seed=int(seed)))
    st.caption(t("image_tensor.why_setup", n=correct.train_size, epochs=correct.epochs, lr=correct.lr))
    pair = [Run(t("image_tensor.run_norm"), correct, CORRECT), Run(t("image_tensor.run_raw"), raw_run, MISTAKE)]
    views = watch(pair, "it")
    if finished(views):
        results(pair, views)
    if all(v is not None and v.epochs and not v.active for v in views):
        explain("image_tensor.why_lesson")


with augment_tab:
    augmentation()
with why:
    why_normalize()

st.subheader(t("image_tensor.layout_header"))
explain("image_tensor.layout_intro")


def uploaded() -> Picture | None:
    """The uploaded picture, decoded once per file and kept at most MAX_SIDE a side; None without one or if it is
    bad. A function, so the copy of the file that Streamlit hands back on every rerun is freed when it returns."""
    upload = st.file_uploader(t("image_tensor.upload", mb=MAX_UPLOAD_MB), key="it_upload",
                              type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"],
                              max_upload_size=MAX_UPLOAD_MB)
    if upload is None:
        return None
    try:
        return load_picture(upload.getvalue(), upload.name)
    except LabError as exc:
        lab_error(exc)
        return None


picture = uploaded()
rgb, name, shrunk = (picture.rgb, picture.name, picture.shrunk) if picture else (sample_picture(), None, False)
if name:
    st.text(t("image_tensor.file", name=name))
    if shrunk:
        st.caption(t("image_tensor.shrunk", width=picture.width, height=picture.height, w=rgb.shape[1],
                     h=rgb.shape[0], side=MAX_SIDE))
else:
    st.caption(t("image_tensor.sample"))
h, w = rgb.shape[:2]
for key, top in (("it_row", h - 1), ("it_col", w - 1)):
    if st.session_state.get(key, 0) > top:  # a smaller picture than the last one
        st.session_state[key] = top
cols = st.columns([1, 1, 2])
row = cols[0].slider(t("image_tensor.row"), 0, max(h - 1, 1), min(18, h - 1), key="it_row", bind="query-params",
                     disabled=h == 1)
col = cols[1].slider(t("image_tensor.col"), 0, max(w - 1, 1), min(6, w - 1), key="it_col", bind="query-params",
                     disabled=w == 1)
hwc_px, chw_px = pixel_both_ways(rgb, row, col)
chw = to_tensor(rgb)
with cols[2]:
    code(f"np.array(picture).shape  = {tuple(rgb.shape)}   # [H, W, C]\n"
         f"ToTensor()(picture).shape = {tuple(chw.shape)}   # [C, H, W]\n"
         f"array[{row}, {col}, :]  = {hwc_px.tolist()}\n"
         f"tensor[:, {row}, {col}] = {[round(v, 4) for v in chw_px.tolist()]}", language="python")
figures.show(channels_figure(preview(chw), h, w, row, col), key="it_channels")
explain("image_tensor.layout_explain")

code_panel(image_script(data.source, index, norm, BINS, row, col, name, MAX_SIDE if shrunk else None))
