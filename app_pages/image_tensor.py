"""Image to tensor: a real digit as 0-255 numbers, ToTensor's [0, 1], Normalize, [C, H, W] vs [H, W, C], and why
normalization helps (two short seeded trainings in the background)."""
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.augment import augment
from core.errors import LabError
from core.images import MAX_SIDE, MAX_UPLOAD_MB, Picture, load_picture
from core.pitfalls import BASE, pitfall_pair
from core.tensors import NORMS, digit_stages, histogram, norm_params, pixel_both_ways, preview, sample_picture, stats, to_tensor
from lab import cache
from lab.basics_views import histograms, value_grid
from lab.run_compare import CORRECT, MISTAKE, Run, compare
from lab.snippets.tensors import image_script
from lab.ui import code_panel, explain, lab_error, t, url_choice

STAGES = ("raw", "unit", "normalized")
COLORS = ("#7f7f7f", "#4c78a8", "#f58518")
BINS = 25


@st.cache_data(show_spinner=False, max_entries=4)
def norm_of(name: str, source: str) -> tuple[float, float]:
    """Normalize's (mean, std) for a choice, computed once per dataset (full MNIST has 47 million pixels)."""
    return norm_params(name, cache.digits().train_images)


st.title(t("image_tensor.title"))
explain("image_tensor.intro")
data = cache.digits()

st.subheader(t("image_tensor.grid_header"))
left, mid, right = st.columns([2, 2, 1])
index = left.slider(t("image_tensor.digit"), 0, len(data.test_labels) - 1, 0, key="it_digit", bind="query-params")
with mid:
    norm = url_choice(st.segmented_control, t("image_tensor.norm"), list(NORMS), key="it_norm",
                      format_func=lambda n: t(f"image_tensor.norm_{n}"))
with right:
    stage = url_choice(st.selectbox, t("image_tensor.stage"), list(STAGES), key="it_stage",
                       format_func=lambda s: t(f"image_tensor.stage_{s}"))
mean, std = norm_of(norm, data.source)
digit = digit_stages(data.test_images[index], mean, std)
st.caption(t("image_tensor.label", label=int(data.test_labels[index]), mean=f"{mean:.4f}", std=f"{std:.4f}"))
shown = digit.tensors[stage]
grid = shown if shown.dim() == 2 else shown[0]
st.plotly_chart(value_grid(grid, 0 if stage == "raw" else 2, zrange=digit.ranges[stage]), width="stretch")
explain(f"image_tensor.stage_{stage}_explain")

rows = []
for name in STAGES:
    s = stats(digit.tensors[name])
    rows.append({t("image_tensor.col_stage"): t(f"image_tensor.stage_{name}"), t("image_tensor.col_shape"): str(list(s.shape)),
                 t("image_tensor.col_dtype"): s.dtype, "min": f"{s.minimum:.3f}", "max": f"{s.maximum:.3f}",
                 t("image_tensor.col_mean"): f"{s.mean:.3f}", t("image_tensor.col_std"): f"{s.std:.3f}"})
st.dataframe(rows, hide_index=True, width="stretch")
hists = [histogram(digit.tensors[n].float(), BINS, *digit.ranges[n]) for n in STAGES]
st.plotly_chart(histograms(hists, [t(f"image_tensor.stage_{n}") for n in STAGES], COLORS, t("image_tensor.count")),
                width="stretch")
st.caption(t("image_tensor.hist_note"))

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
    st.code(f"np.array(picture).shape  = {tuple(rgb.shape)}   # [H, W, C]\n"
            f"ToTensor()(picture).shape = {tuple(chw.shape)}   # [C, H, W]\n"
            f"array[{row}, {col}, :]  = {hwc_px.tolist()}\n"
            f"tensor[:, {row}, {col}] = {[round(v, 4) for v in chw_px.tolist()]}", language="python")
small = preview(chw)
scale_y, scale_x = small.shape[1] / h, small.shape[2] / w
fig = make_subplots(rows=1, cols=4, subplot_titles=[t("image_tensor.picture")] +
                    [t("image_tensor.channel", c=c, name=n) for c, n in enumerate("RGB")], horizontal_spacing=0.03)
fig.add_trace(go.Image(z=(small.permute(1, 2, 0) * 255).round().byte().numpy()), 1, 1)
for c, scale in enumerate(("Reds", "Greens", "Blues")):
    fig.add_trace(go.Heatmap(z=small[c].numpy(), colorscale=scale, zmin=0, zmax=1, showscale=False), 1, c + 2)
for c in range(4):
    fig.add_trace(go.Scatter(x=[(col + 0.5) * scale_x - 0.5], y=[(row + 0.5) * scale_y - 0.5], mode="markers",
                             marker=dict(symbol="square-open", size=14, color="black", line=dict(width=2)),
                             showlegend=False, hoverinfo="skip"), 1, c + 1)
fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
fig.update_xaxes(showticklabels=False)
fig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=10))
st.plotly_chart(fig, width="stretch")
explain("image_tensor.layout_explain")

st.subheader(t("image_tensor.aug_header"))
explain("image_tensor.aug_intro")
a1, a2, a3, a4 = st.columns(4)
degrees = a1.slider(t("image_tensor.aug_degrees"), 0, 45, 15, key="it_aug_deg", bind="query-params")
shift = a2.slider(t("image_tensor.aug_shift"), 0.0, 0.3, 0.1, 0.05, key="it_aug_shift", bind="query-params")
zoom = a3.slider(t("image_tensor.aug_zoom"), 0.0, 0.3, 0.1, 0.05, key="it_aug_zoom", bind="query-params")
aug_seed = int(a4.number_input(t("image_tensor.seed"), 0, 99, 0, key="it_aug_seed", bind="query-params"))
aug = augment(data.test_images[index], 8, float(degrees), float(shift), float(zoom), aug_seed)
titles = [t("image_tensor.aug_original")] + [f"{a:+.1f}° ({dx:+d}, {dy:+d}) ×{z:.2f}"
                                             for a, (dx, dy), z in zip(aug.angles, aug.shifts, aug.scales)]
fig = make_subplots(rows=1, cols=9, subplot_titles=titles, horizontal_spacing=0.01)
for i, img in enumerate([aug.original, *aug.variants], start=1):
    fig.add_trace(go.Heatmap(z=img.numpy(), colorscale="gray", zmin=0, zmax=1, showscale=False, hoverinfo="skip"), 1, i)
fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
fig.update_xaxes(showticklabels=False)
fig.update_annotations(font_size=10)
fig.update_layout(height=190, margin=dict(l=5, r=5, t=30, b=5))
st.plotly_chart(fig, width="stretch")
st.code(f"transform = v2.RandomAffine(degrees={degrees}, translate=({shift:g}, {shift:g}), "
        f"scale=({1 - zoom:g}, {1 + zoom:g}))\ntorch.manual_seed({aug_seed})\n"
        f"copies = [transform(x) for _ in range(8)]  # x: the digit after ToTensor, [1, 28, 28]", language="python")

st.subheader(t("image_tensor.why_header"))
explain("image_tensor.why_intro")
seed = st.number_input(t("image_tensor.seed"), 0, 99, 0, key="it_seed", bind="query-params")
correct, raw_run = pitfall_pair("no_normalize", BASE.but(seed=int(seed)))
st.caption(t("image_tensor.why_setup", n=correct.train_size, epochs=correct.epochs, lr=correct.lr))
views = compare([Run(t("image_tensor.run_norm"), correct, CORRECT), Run(t("image_tensor.run_raw"), raw_run, MISTAKE)], "it")
if all(v is not None and v.epochs and not v.active for v in views):
    explain("image_tensor.why_lesson")

code_panel(image_script(data.source, index, norm, BINS, row, col, name, MAX_SIDE if shrunk else None))
