"""Drawing a trained model's insides (shell): every figure a plain dict built from core's numbers, drawn through
lab.figures.show; predictions cached per run key (lab.cache)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import streamlit as st
import torch
from PIL import Image

from core.lenet import build_lenet
from core.model_inspect import (Predictions, confusion_matrix, digit_probabilities, feature_maps, filter_change,
                                misclassified, per_class_accuracy, tile_maps, top_confusions)
from lab import cache, figures
from lab.cache import dataset
from lab.runs import COLORS
from lab.ui import t
from lab.views.training import DIVERGING
from runtime.jobs import JobView

MAP_LAYERS = ("input", "conv1", "act1", "pool1", "conv2", "act2", "pool2")
VECTOR_LAYERS = ("fc1", "act3", "fc2", "act4")
CLASSES = [str(d) for d in range(10)]
GRAY = [[0.0, "#000000"], [1.0, "#ffffff"]]  # the digit as it is: black paper, white ink
# counts: light for few, dark blue for many (spelled out: these dicts reach plotly.js unvalidated, and plotly.js's own
# "Blues" runs the other way, which drew the confusion matrix's diagonal of correct answers almost white)
COUNTS = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]
PICTURE_AXIS = dict(showticklabels=False, showgrid=False, zeroline=False, ticks="")  # pictures hide their axes


def big(digit: np.ndarray, size: int = 84) -> Image.Image:
    """A 28x28 uint8 digit enlarged with crisp pixels."""
    return Image.fromarray(np.asarray(digit, dtype=np.uint8)).resize((size, size), Image.NEAREST)


def layer_title(name: str, view: JobView) -> str:
    """A layer's name with this model's own sizes ("conv1: 6 kernels 5×5, padding 2")."""
    c = view.config
    return t(f"inspect.layer_{name}", c1=c.conv1_channels, c2=c.conv2_channels, k=c.kernel_size, p=c.conv1_padding)


# ---- figures (plain dicts) ------------------------------------------------------------------------------------------

def confusion_figure(cm: torch.Tensor) -> dict:
    """Counts of (true digit, answer), the diagonal the correct ones, every class labelled on both axes."""
    heat = dict(type="heatmap", z=cm.tolist(), x=CLASSES, y=CLASSES, colorscale=COUNTS, texttemplate="%{z}",
                showscale=False, hovertemplate=t("inspect.cm_hover") + "<extra></extra>")
    return dict(data=[heat], layout=dict(
        height=520, margin=dict(l=10, r=10, t=60, b=10),
        xaxis=dict(title=dict(text=t("inspect.cm_predicted")), side="top", type="category"),
        yaxis=dict(title=dict(text=t("inspect.cm_true")), autorange="reversed", type="category", scaleanchor="x")))


def per_class_figure(names: Sequence[str], accuracies: Sequence[list[float]]) -> dict:
    """Accuracy on each digit, one group of bars per digit, one bar per run."""
    data = [dict(type="bar", x=CLASSES, y=acc, name=name, marker=dict(color=COLORS[i]),
                 text=[f"{a:.0%}" for a in acc], textposition="outside")
            for i, (name, acc) in enumerate(zip(names, accuracies))]
    return dict(data=data, layout=dict(
        barmode="group", height=380, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=-0.2),
        xaxis=dict(title=dict(text=t("inspect.digit")), type="category"),
        yaxis=dict(title=dict(text=t("inspect.accuracy")), tickformat=".0%", range=[0, 1.12])))


def filters_figure(titles: Sequence[str], kernels: Sequence[torch.Tensor]) -> dict:
    """conv1's kernels, one row of tiles per title (before and after training for each run)."""
    n = len(kernels)
    data, layout = [], dict(height=150 * n, margin=dict(l=10, r=10, t=30, b=10), annotations=[])
    for i, (title, k) in enumerate(zip(titles, kernels)):
        top, bottom = 1 - i / n, 1 - (i + 1) / n + 0.25 / n
        a = "" if i == 0 else str(i + 1)
        top_abs = float(k.abs().max()) or 1.0
        data.append(dict(type="heatmap", z=_z(tile_maps(k, len(k))), xaxis=f"x{a}", yaxis=f"y{a}",
                         colorscale=DIVERGING, zmin=-top_abs, zmax=top_abs, showscale=False, hoverongaps=False,
                         hovertemplate="%{z:.3f}<extra></extra>"))
        layout[f"xaxis{a}"] = dict(PICTURE_AXIS, domain=[0, 1], anchor=f"y{a}")
        layout[f"yaxis{a}"] = dict(PICTURE_AXIS, domain=[bottom, top - 0.1 / n], anchor=f"x{a}", autorange="reversed",
                                   scaleanchor=f"x{a}")
        layout["annotations"].append(dict(text=title, x=0, y=top, xref="paper", yref="paper", xanchor="left",
                                          yanchor="top", showarrow=False, font=dict(size=13)))
    return dict(data=data, layout=layout)


def map_figure(maps: torch.Tensor, cols: int, gray: bool) -> dict:
    """One layer's feature maps tiled into a picture (red positive, blue negative; the input in grey)."""
    tiles = tile_maps(maps, cols)
    rows = -(-maps.shape[0] // cols)
    top = float(torch.nan_to_num(tiles).abs().max()) or 1.0
    colors = dict(colorscale=GRAY, zmin=None, zmax=None) if gray else dict(colorscale=DIVERGING, zmin=-top, zmax=top)
    heat = dict(type="heatmap", z=_z(tiles), showscale=False, hoverongaps=False,
                hovertemplate="%{z:.3f}<extra></extra>", **{k: v for k, v in colors.items() if v is not None})
    return dict(data=[heat], layout=dict(
        height=200 if gray else min(420, 70 + 90 * rows), margin=dict(l=0, r=0, t=0, b=0),
        xaxis=PICTURE_AXIS, yaxis=dict(PICTURE_AXIS, autorange="reversed", scaleanchor="x")))


BLOCK, STRIP, BARS, TOP, BOTTOM = 104, 30, 190, 34, 56  # px: the fully connected strips and the softmax bars


def vectors_figure(titles: Sequence[str], vectors: Sequence[torch.Tensor], probs: torch.Tensor) -> dict:
    """The fully connected layers as one-row strips (unit index across), each title above its own strip and clear of
    the previous strip's tick labels; then the ten softmax probabilities, every class labelled."""
    height = TOP + BLOCK * len(vectors) + BARS + BOTTOM
    y = lambda px: 1 - px / (height - TOP - BOTTOM)  # noqa: E731 - pixels from the plot area's top to a domain value
    data, notes = [], []
    layout: dict = dict(height=height, showlegend=False, margin=dict(l=10, r=10, t=TOP, b=BOTTOM))
    for i, (title, v) in enumerate(zip(titles, vectors)):
        a = "" if i == 0 else str(i + 1)
        top = BLOCK * i
        data.append(dict(type="heatmap", z=[v.tolist()], xaxis=f"x{a}", yaxis=f"y{a}", colorscale=DIVERGING,
                         zmid=0, showscale=False, hovertemplate="%{x}: %{z:.3f}<extra></extra>"))
        layout[f"xaxis{a}"] = dict(domain=[0, 1], anchor=f"y{a}", title=dict(text=t("inspect.unit_axis"),
                                   standoff=2, font=dict(size=11)), tickfont=dict(size=10), showgrid=False)
        layout[f"yaxis{a}"] = dict(PICTURE_AXIS, domain=[y(top + 22 + STRIP), y(top + 22)], anchor=f"x{a}")
        notes.append(dict(text=title, x=0, y=y(top), xref="paper", yref="paper", xanchor="left", yanchor="top",
                          showarrow=False, font=dict(size=13)))
    a = str(len(vectors) + 1)
    top = BLOCK * len(vectors)
    best = int(probs.argmax())
    data.append(dict(type="bar", x=CLASSES, y=probs.tolist(), xaxis=f"x{a}", yaxis=f"y{a}",
                     marker=dict(color=[COLORS[0] if d == best else "#9ecae9" for d in range(10)]),
                     text=[f"{p:.0%}" for p in probs.tolist()], textposition="outside", cliponaxis=False))
    layout[f"xaxis{a}"] = dict(domain=[0, 1], anchor=f"y{a}", type="category", tickmode="array", tickvals=CLASSES,
                               title=dict(text=t("inspect.digit")))
    layout[f"yaxis{a}"] = dict(domain=[0, y(top + 26)], anchor=f"x{a}", range=[0, 1.18], tickformat=".0%",
                               title=dict(text=t("inspect.probability")))
    notes.append(dict(text=t("inspect.probabilities"), x=0, y=y(top), xref="paper", yref="paper", xanchor="left",
                      yanchor="top", showarrow=False, font=dict(size=13)))
    layout["annotations"] = notes
    return dict(data=data, layout=layout)


def probabilities_figure(names: Sequence[str], probs: Sequence[torch.Tensor]) -> dict:
    """Each model's softmax over the ten digits for one drawn digit, side by side, every class labelled."""
    n = len(names)
    data, layout = [], dict(height=340, showlegend=False, margin=dict(l=10, r=10, t=50, b=10), annotations=[])
    for i, (name, p) in enumerate(zip(names, probs)):
        a = "" if i == 0 else str(i + 1)
        best = int(p.argmax())
        x0, x1 = i / n + (0.015 if i else 0), (i + 1) / n - (0.015 if i < n - 1 else 0)
        data.append(dict(type="bar", x=CLASSES, y=p.tolist(), xaxis=f"x{a}", yaxis=f"y{a}", name=name,
                         marker=dict(color=COLORS[i]), text=[f"{v:.0%}" for v in p.tolist()], textposition="outside"))
        layout[f"xaxis{a}"] = dict(domain=[x0, x1], anchor=f"y{a}", type="category", tickmode="array", tickvals=CLASSES,
                                   title=dict(text=t("inspect.digit")))
        layout[f"yaxis{a}"] = dict(domain=[0, 1], anchor=f"x{a}", range=[0, 1.1], tickformat=".0%",
                                   showticklabels=i == 0, title=dict(text=t("inspect.probability") if i == 0 else ""))
        layout["annotations"].append(dict(text=t("inspect.says", name=name, digit=best, p=f"{float(p[best]):.0%}"),
                                          x=(x0 + x1) / 2, y=1.04, xref="paper", yref="paper", xanchor="center",
                                          yanchor="bottom", showarrow=False, font=dict(size=14)))
    return dict(data=data, layout=layout)


WHY_MAPS = ("saliency", "integrated", "occlusion", "towards")  # Explanation's fields, in the order drawn
INK = [[0.0, "#ffffff"], [1.0, "#4d4d4d"]]  # the digit under the overlays: grey ink on white paper
SIGNED = [[0.0, "rgba(33,102,172,0.95)"], [0.5, "rgba(247,247,247,0)"], [1.0, "rgba(178,24,43,0.95)"]]  # clear at 0
UNSIGNED = [[0.0, "rgba(178,24,43,0)"], [1.0, "rgba(178,24,43,0.95)"]]


def why_figure(names: Sequence[str], digit: torch.Tensor, explanations: Sequence) -> dict:
    """One row per model: the digit (28x28 uint8) under each attribution map (saliency, integrated gradients,
    occlusion, and integrated gradients of runner-up minus answer), red = pushes towards the class, blue = away; each
    map on its own symmetric scale. Pictures: no axes."""
    n, cols = len(names), len(WHY_MAPS)
    height = 70 + 260 * n
    data, notes = [], []
    layout: dict = dict(height=height, showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
    ink = digit.float().tolist()
    for j, field in enumerate(WHY_MAPS):
        notes.append(dict(text=f"<b>{t(f'inspect.why_{field}')}</b>", x=(j + 0.5) / cols, y=1.0, xref="paper",
                          yref="paper", xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=13)))
    for i, (name, ex) in enumerate(zip(names, explanations)):
        y1 = 1 - i / n - (0.09 / n)
        y0 = 1 - (i + 1) / n + 0.02 / n
        said, other = ex.predicted, ex.runner_up
        notes.append(dict(text=t("inspect.why_row", name=name, said=said, p=f"{float(ex.probs[said]):.0%}",
                                 other=other, q=f"{float(ex.probs[other]):.0%}"),
                          x=0, y=1 - i / n, xref="paper", yref="paper", xanchor="left", yanchor="top",
                          showarrow=False, font=dict(size=13, color=COLORS[i])))
        for j, field in enumerate(WHY_MAPS):
            k = i * cols + j + 1
            a = "" if k == 1 else str(k)
            values = getattr(ex, field)  # (28, 28)
            top = float(values.abs().max()) or 1.0
            signed = field != "saliency"
            data.append(dict(type="heatmap", z=ink, xaxis=f"x{a}", yaxis=f"y{a}", colorscale=INK, zmin=0, zmax=255,
                             showscale=False, hoverinfo="skip"))
            data.append(dict(type="heatmap", z=[[round(v, 5) for v in row] for row in values.tolist()], xaxis=f"x{a}",
                             yaxis=f"y{a}", colorscale=SIGNED if signed else UNSIGNED, zmin=-top if signed else 0.0,
                             zmax=top, showscale=False, hovertemplate="%{z:.4f}<extra></extra>", name=field))
            x0, x1 = j / cols + 0.01, (j + 1) / cols - 0.01
            frame = dict(showline=True, mirror=True, linecolor="#d0d0d0")  # the paper's edge: white on white else
            layout[f"xaxis{a}"] = dict(PICTURE_AXIS, **frame, domain=[x0, x1], anchor=f"y{a}", scaleanchor=f"y{a}",
                                       constrain="domain", constraintoward="center")  # square pixels, centred
            layout[f"yaxis{a}"] = dict(PICTURE_AXIS, **frame, domain=[y0, y1], anchor=f"x{a}", autorange="reversed",
                                       constrain="domain", constraintoward="middle")
    layout["annotations"] = notes
    return dict(data=data, layout=layout)


def why_section(views: list[JobView], names: list[str], digit: torch.Tensor, key: str) -> None:
    """For one digit (uint8 28x28) and every chosen model: why it gave its answer, and what pushes it to the
    runner-up (computed once per run key and digit for the whole class)."""
    blob = digit.to(torch.uint8).contiguous().numpy().tobytes()
    with st.spinner(t("inspect.why_computing")):
        explanations = [cache.explanation(v.key, blob) for v in views]
    shown = [(n, e) for n, e in zip(names, explanations) if e is not None]
    if not shown:
        return
    figures.show(why_figure([n for n, _ in shown], digit, [e for _, e in shown]), key=key)
    for name, ex in shown:
        st.caption(t("inspect.why_takeaway", name=name, said=ex.predicted, other=ex.runner_up))


def _z(tiles: torch.Tensor) -> list[list[float | None]]:
    """A tensor with NaN gaps as nested lists with None (blank cells, valid JSON)."""
    return [[None if v != v else v for v in row] for row in tiles.tolist()]


# ---- sections (draw into the page) ----------------------------------------------------------------------------------

def confusion_section(view: JobView, preds: Predictions) -> None:
    """Counts of (true digit, answer) with the diagonal = correct; the worst confusions in words."""
    cm = confusion_matrix(preds.labels, preds.predicted)
    st.metric(t("inspect.accuracy"), f"{preds.accuracy:.1%}", help=t("inspect.accuracy_help", n=len(preds.labels)))
    figures.show(confusion_figure(cm), key="insp_cm")
    worst = top_confusions(cm, 3)
    if worst:
        st.markdown(t("inspect.worst") + " " + "; ".join(t("inspect.worst_item", true=a, said=b, n=c)
                                                           for a, b, c in worst))


def mistakes_section(view: JobView, preds: Predictions, limit: int = 24) -> None:
    """The test digits the model got wrong, its most confident mistakes first."""
    idx = misclassified(preds, limit)
    wrong = int((preds.predicted != preds.labels).sum())
    st.caption(t("inspect.mistakes_count", wrong=wrong, total=len(preds.labels)))
    if not len(idx):
        st.success(t("inspect.no_mistakes"))
        return
    data = dataset(view.config.dataset)
    images = [big(data.test_images[i].numpy()) for i in idx.tolist()]
    captions = [t("inspect.mistake_caption", true=int(preds.labels[i]), said=int(preds.predicted[i]),
                  p=f"{float(preds.confidence[i]):.0%}") for i in idx.tolist()]
    st.image(images, caption=captions, width=84)


def per_class_section(views: list[JobView], names: list[str]) -> None:
    """Accuracy on each digit, one bar per run."""
    shown, accs = [], []
    for view, name in zip(views, names):
        preds = cache.predictions(view.key)
        if preds is not None:
            shown.append(name)
            accs.append(per_class_accuracy(confusion_matrix(preds.labels, preds.predicted)).tolist())
    figures.show(per_class_figure(shown, accs), key="insp_per_class")


def filters_section(views: list[JobView], names: list[str]) -> None:
    """conv1's kernels before (same seed) and after training, one row pair per run."""
    titles, kernels = [], []
    for view, name in zip(views, names):
        learned = view.done.model.conv1.weight.detach()[:, 0]  # (C1, k, k)
        initial = build_lenet(view.config.lenet, view.config.seed).conv1.weight.detach()[:, 0]
        titles += [f"{name} · {t('inspect.initial')}", f"{name} · {t('inspect.learned')}"]
        kernels += [initial, learned]
        moved = filter_change(initial, learned)
        st.caption(t("inspect.moved", name=name, values=", ".join(f"{m:.2f}" for m in moved.tolist())))
    figures.show(filters_figure(titles, kernels), key="insp_filters")


def maps_section(view: JobView, index: int) -> None:
    """One test digit through every layer of the model: maps for the convolution part, strips and bars for the rest."""
    data = dataset(view.config.dataset)
    outs = feature_maps(view.done.model, data.test_images[index], view.config.normalize)
    for name in MAP_LAYERS:
        maps = outs[name]  # (C, H, W)
        st.markdown(f"**{layer_title(name, view)}** · `{list(maps.shape)}`")
        cols = 1 if name == "input" else min(len(maps), 8 if len(maps) > 6 else 6)
        figures.show(map_figure(maps, cols, gray=name == "input"), key=f"insp_map_{name}")
    titles = [f"{layer_title(n, view)} · {list(outs[n].shape)}" for n in VECTOR_LAYERS]
    figures.show(vectors_figure(titles, [outs[n] for n in VECTOR_LAYERS], outs["fc3"].softmax(0)), key="insp_vectors")


def drawn_probabilities(views: list[JobView], names: list[str], digit: torch.Tensor) -> dict:
    """probabilities_figure for a drawn digit (uint8 28x28) through every chosen model."""
    return probabilities_figure(names, [digit_probabilities(v.done.model, digit, v.config.normalize) for v in views])
