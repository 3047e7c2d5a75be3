"""Drawing a trained model's insides (shell): predictions cached per run key, charts built from core's numbers."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image
from plotly.subplots import make_subplots

from core.model_inspect import (Predictions, confusion_matrix, digit_probabilities, feature_maps, filter_change,
                                misclassified, per_class_accuracy, tile_maps, top_confusions)
from core.lenet import build_lenet
from lab import cache
from lab.cache import dataset
from lab.runs import COLORS
from lab.ui import t
from runtime.jobs import JobView

MAP_LAYERS = (("input", 1), ("conv1", 6), ("act1", 6), ("pool1", 6), ("conv2", 8), ("act2", 8), ("pool2", 8))
VECTOR_LAYERS = ("fc1", "act3", "fc2", "act4")


def big(digit: np.ndarray, size: int = 84) -> Image.Image:
    """A 28x28 uint8 digit enlarged with crisp pixels."""
    return Image.fromarray(np.asarray(digit, dtype=np.uint8)).resize((size, size), Image.NEAREST)


def confusion_section(view: JobView, preds: Predictions) -> None:
    """Counts of (true digit, answer) with the diagonal = correct; the worst confusions in words."""
    cm = confusion_matrix(preds.labels, preds.predicted)
    st.metric(t("inspect.accuracy"), f"{preds.accuracy:.1%}", help=t("inspect.accuracy_help", n=len(preds.labels)))
    fig = go.Figure(go.Heatmap(z=cm.numpy(), x=[str(i) for i in range(10)], y=[str(i) for i in range(10)],
                               colorscale="Blues", texttemplate="%{z}", showscale=False,
                               hovertemplate=t("inspect.cm_hover") + "<extra></extra>"))
    fig.update_xaxes(title_text=t("inspect.cm_predicted"), side="top", type="category")
    fig.update_yaxes(title_text=t("inspect.cm_true"), autorange="reversed", type="category", scaleanchor="x")
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=60, b=10))
    st.plotly_chart(fig, width="stretch")
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
    fig = go.Figure()
    for i, (view, name) in enumerate(zip(views, names)):
        preds = cache.predictions(view.key)
        if preds is None:
            continue
        acc = per_class_accuracy(confusion_matrix(preds.labels, preds.predicted))
        fig.add_trace(go.Bar(x=[str(d) for d in range(10)], y=acc.numpy(), name=name, marker_color=COLORS[i],
                             text=[f"{a:.0%}" for a in acc.tolist()], textposition="outside"))
    fig.update_layout(barmode="group", height=380, margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", y=-0.15))
    fig.update_xaxes(title_text=t("inspect.digit"), type="category")
    fig.update_yaxes(title_text=t("inspect.accuracy"), tickformat=".0%", range=[0, 1.12])
    st.plotly_chart(fig, width="stretch")


def filters_section(views: list[JobView], names: list[str]) -> None:
    """conv1's six 5x5 kernels before (same seed) and after training, one row pair per run."""
    titles = [f"{name} · {t(f'inspect.{when}')}" for name in names for when in ("initial", "learned")]
    fig = make_subplots(rows=len(views) * 2, cols=1, subplot_titles=titles, vertical_spacing=0.06)
    for i, view in enumerate(views):
        learned = view.done.model.conv1.weight.detach()[:, 0]  # (6, 5, 5)
        initial = build_lenet(view.config.lenet, view.config.seed).conv1.weight.detach()[:, 0]
        for j, kernels in enumerate((initial, learned)):
            fig.add_trace(go.Heatmap(z=tile_maps(kernels, 6).numpy(), colorscale="RdBu_r", zmid=0, showscale=False,
                                     hovertemplate="%{z:.3f}<extra></extra>"), 2 * i + j + 1, 1)
        moved = filter_change(initial, learned)
        st.caption(t("inspect.moved", name=names[i], values=", ".join(f"{m:.2f}" for m in moved.tolist())))
    fig.update_yaxes(autorange="reversed", showticklabels=False, showgrid=False, zeroline=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_layout(height=150 * len(views) * 2, margin=dict(l=10, r=10, t=30, b=10))
    st.plotly_chart(fig, width="stretch")


def maps_section(view: JobView, index: int) -> None:
    """One test digit through every layer of the model: maps for the convolution part, bars for the rest."""
    data = dataset(view.config.dataset)
    outs = feature_maps(view.done.model, data.test_images[index], view.config.normalize)
    for name, cols in MAP_LAYERS:
        maps = outs[name]  # (C, H, W)
        st.markdown(f"**{t(f'layer.{name}')}** · `{list(maps.shape)}`")
        fig = go.Figure(go.Heatmap(z=tile_maps(maps, cols).numpy(), colorscale="gray" if name == "input" else "RdBu_r",
                                   zmid=None if name == "input" else 0, showscale=False,
                                   hovertemplate="%{z:.3f}<extra></extra>"))
        rows = -(-maps.shape[0] // cols)
        fig.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor="x", showgrid=False, zeroline=False)
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
        fig.update_layout(height=min(420, 70 + 90 * rows) if name != "input" else 200, margin=dict(l=0, r=0, t=0, b=0))
        st.plotly_chart(fig, width="stretch")
    fig = make_subplots(rows=len(VECTOR_LAYERS) + 1, cols=1, vertical_spacing=0.08,
                        subplot_titles=[f"{t(f'layer.{n}')} {list(outs[n].shape)}" for n in VECTOR_LAYERS]
                        + [t("inspect.probabilities")])
    for r, name in enumerate(VECTOR_LAYERS, start=1):
        fig.add_trace(go.Heatmap(z=outs[name][None].numpy(), colorscale="RdBu_r", zmid=0, showscale=False,
                                 hovertemplate="%{x}: %{z:.3f}<extra></extra>"), r, 1)
        fig.update_yaxes(showticklabels=False, row=r, col=1)
    probs = outs["fc3"].softmax(0)
    fig.add_trace(go.Bar(x=[str(d) for d in range(10)], y=probs.numpy(), marker_color=COLORS[0],
                         text=[f"{p:.0%}" for p in probs.tolist()], textposition="outside"), len(VECTOR_LAYERS) + 1, 1)
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%", row=len(VECTOR_LAYERS) + 1, col=1)
    fig.update_layout(height=560, showlegend=False, margin=dict(l=10, r=10, t=30, b=10))
    st.plotly_chart(fig, width="stretch")


def probabilities_figure(views: list[JobView], names: list[str], digit) -> go.Figure:
    """Each model's softmax over the ten digits for one drawn digit, side by side."""
    titles = []
    fig = make_subplots(rows=1, cols=len(views), shared_yaxes=True, horizontal_spacing=0.03)
    for i, (view, name) in enumerate(zip(views, names)):
        probs = digit_probabilities(view.done.model, digit, view.config.normalize)
        best = int(probs.argmax())
        titles.append(t("inspect.says", name=name, digit=best, p=f"{float(probs[best]):.0%}"))
        fig.add_trace(go.Bar(x=[str(d) for d in range(10)], y=probs.numpy(), marker_color=COLORS[i],
                             text=[f"{p:.0%}" for p in probs.tolist()], textposition="outside", name=name), 1, i + 1)
        fig.update_xaxes(type="category", row=1, col=i + 1)
    for i, title in enumerate(titles):
        fig.add_annotation(text=title, x=0.5, y=1.12, xref=f"x{i + 1 if i else ''} domain", yref="y domain",
                           showarrow=False, font=dict(size=14))
    fig.update_yaxes(range=[0, 1.1], tickformat=".0%")
    fig.update_layout(height=340, showlegend=False, margin=dict(l=10, r=10, t=50, b=10))
    return fig
