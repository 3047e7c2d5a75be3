"""Drawing of the home page (shell): every channel of every layer of one forward pass, left to right, as one plain
figure dict (one pair of axes, each map a heatmap placed by x0/dx, titles as annotations: no subplots to overlap).

Measured (2 cores, loaded): the old make_subplots figure of six maps cost ~125 ms a rerun; this one of 72 traces costs
~5 ms to build (cached per run and digit) and ~11 ms to hand to the browser (float32 arrays, sent as base64: nested
lists took 29 ms); a digit move on the server is 83 ms of CPU, 1.6x a bare one-slider, one-heatmap page."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

# The columns, left to right: (layer in LeNet5.forward_all, how it is drawn, largest side of one map in units).
# One unit is the side of a 28x28 map at the page's usual width (~50 px at 1366, ~55-90 px wider).
COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("input", "maps", 1.5), ("conv1", "maps", 1.0), ("act1", "maps", 1.0), ("pool1", "maps", 0.8),
    ("conv2", "maps", 0.72), ("act2", "maps", 0.72), ("pool2", "maps", 0.55),
    ("act3", "strip", 0.3), ("act4", "strip", 0.3), ("fc3", "bars", 1.9))
HEIGHT = 6.6  # units: the tallest stack of maps (conv1's six rows of 1.0 plus gaps)
TOP = 1.15  # units above the maps for the two-line column titles
MIN_COLUMN = 1.25  # units: no title is wider than this at the page's narrowest usual width (about 880 px)
GAP = 0.3  # units between columns
MAX_ROWS = 8  # maps per sub-column before a layer wraps into another sub-column
CLICKABLE = ("input", "conv1", "act1", "pool1", "conv2", "act2", "pool2", "act3", "act4", "fc3")
PRED, OTHER = "#f58518", "#4c78a8"  # the predicted class's bar, the others
# Spelled out: plotly.js knows neither "gray" nor Python plotly's other aliases (figures are not validated here).
DIVERGING = [[0.0, "#2166ac"], [0.5, "#f7f7f7"], [1.0, "#b2182b"]]  # negative blue, zero white, positive red
GREY = [[0.0, "#000000"], [1.0, "#ffffff"]]


@dataclass(frozen=True)
class Placed:
    """Where one column sits: its left edge and width in units, and per channel the top-left corner and side."""

    name: str
    kind: str
    left: float
    width: float
    cells: tuple[tuple[float, float, float], ...]  # (x, y, side) of each channel's map (maps), or of the strip


def _grid(channels: int) -> tuple[int, int]:
    """(rows, sub-columns) for a stack of maps: one column up to MAX_ROWS maps, then more sub-columns."""
    if channels <= MAX_ROWS:
        return channels, 1
    sub = math.ceil(channels / MAX_ROWS)
    if sub > 4:  # wide custom models: at most four sub-columns, smaller maps
        sub = 4
    return math.ceil(channels / sub), sub


def layout(shapes: dict[str, tuple[int, ...]]) -> list[Placed]:
    """Place every column for these per-sample shapes ((C, H, W) maps, (F,) vectors)."""
    placed, x = [], 0.0
    for name, kind, largest in COLUMNS:
        if kind == "maps":
            channels = shapes[name][0]
            rows, sub = _grid(channels)
            pitch = HEIGHT / max(rows, 1)
            side = min(largest, pitch * 0.87)
            block_w = sub * side + (sub - 1) * 0.1
            width = max(MIN_COLUMN, block_w)
            x0 = x + (width - block_w) / 2
            top = (HEIGHT - rows * pitch) / 2
            cells = tuple((x0 + (k // rows) * (side + 0.1), top + (k % rows) * pitch + (pitch - side) / 2, side)
                          for k in range(channels))
        elif kind == "strip":
            width = MIN_COLUMN
            cells = ((x + (width - largest) / 2, 0.0, largest),)
        else:
            width = max(MIN_COLUMN, largest)
            cells = ((x, 0.0, largest),)
        placed.append(Placed(name, kind, x, width, cells))
        x += width + GAP
    return placed


def _values(t: torch.Tensor) -> np.ndarray:
    """A tensor as a float32 array: Plotly sends it as one base64 block (a third of the CPU of nested lists)."""
    return t.detach().to(torch.float32).numpy().copy()


def _range(t: torch.Tensor) -> float:
    """The symmetric colour range of a layer: its largest magnitude (never 0)."""
    return max(float(t.detach().abs().max()), 1e-6)


def pipeline_traces(outs: dict[str, torch.Tensor]) -> tuple[list[dict], list[Placed]]:
    """The language-free traces of one sample's forward pass (outs from LeNet5.forward_all, batch of one): every
    channel of every map as a heatmap in place, the two hidden vectors as strips, the logits as bars."""
    shapes = {name: tuple(outs[name].shape[1:]) for name, _, _ in COLUMNS}
    placed = layout(shapes)
    traces: list[dict] = []
    for col in placed:
        t = outs[col.name][0]
        if col.kind == "maps":
            grey = col.name == "input"
            r = _range(t)
            for k, (x0, y0, side) in enumerate(col.cells):
                h, w = t.shape[-2:]
                trace = dict(type="heatmap", z=_values(t[k]), x0=x0 + side / w / 2, dx=side / w,
                             y0=y0 + side / h / 2, dy=side / h, showscale=False, name=f"{col.name}[{k}]",
                             hovertemplate=f"{col.name}[{k}]: %{{z:.3f}}<extra></extra>")
                trace.update(dict(colorscale=GREY, zmin=float(t.min()), zmax=float(t.max())) if grey else
                             dict(colorscale=DIVERGING, zmin=-r, zmax=r))
                traces.append(trace)
        elif col.kind == "strip":
            x0, y0, side = col.cells[0]
            n, r = t.shape[0], _range(t)
            traces.append(dict(type="heatmap", z=_values(t)[:, None], x0=x0 + side / 2, dx=side,
                               y0=HEIGHT / n / 2, dy=HEIGHT / n, colorscale=DIVERGING, zmin=-r,
                               zmax=r, showscale=False, name=col.name,
                               hovertemplate=f"{col.name}[%{{customdata}}]: %{{z:.3f}}<extra></extra>",
                               customdata=[[i] for i in range(n)]))
        else:
            logits = t.detach()
            pitch = HEIGHT / len(logits)
            zero = col.left + col.width * 0.62  # room on the left for the class names and negative bars
            scale = col.width * 0.36 / _range(logits)
            best = int(logits.argmax())
            traces.append(dict(type="bar", orientation="h", base=zero, x=[float(v) * scale for v in logits],
                               y=[(i + 0.5) * pitch for i in range(len(logits))], width=pitch * 0.7,
                               marker=dict(color=[PRED if i == best else OTHER for i in range(len(logits))]),
                               customdata=[[i, round(float(v), 4)] for i, v in enumerate(logits)], name="fc3",
                               hovertemplate="logit[%{customdata[0]}]: %{customdata[1]:.4f}<extra></extra>"))
    return traces, placed


def pipeline_figure(traces: list[dict], placed: list[Placed], titles: dict[str, str], shapes: dict[str, str],
                    click_hint: str, height: int = 440) -> dict:
    """The whole figure: the cached traces, a two-line title over each column (name, shape), the class names beside the
    logits, and one almost invisible marker per channel to click (customdata = [layer, channel])."""
    notes = []
    for col in placed:
        notes.append(dict(text=f"<b>{titles[col.name]}</b><br>{shapes[col.name]}", x=col.left + col.width / 2,
                          y=-0.12, xref="x", yref="y", yanchor="bottom", xanchor="center", showarrow=False,
                          font=dict(size=12), name=f"title_{col.name}"))
    bars = placed[-1]
    n = 10
    for i in range(n):
        notes.append(dict(text=str(i), x=bars.left + 0.05, y=(i + 0.5) * HEIGHT / n, xref="x", yref="y",
                          xanchor="left", showarrow=False, font=dict(size=11)))
    xs, ys, data, sizes, names = [], [], [], [], []
    for col in placed:
        if col.name not in CLICKABLE:
            continue
        if col.kind == "maps":
            for k, (x0, y0, side) in enumerate(col.cells):
                xs.append(x0 + side / 2), ys.append(y0 + side / 2), data.append([col.name, k])
                sizes.append(max(10, min(26, side * 26))), names.append(f"{titles[col.name]} [{k}]")
        else:
            xs.append(col.left + col.width / 2), ys.append(HEIGHT / 2), data.append([col.name, -1])
            sizes.append(26), names.append(titles[col.name])
    click = dict(type="scatter", mode="markers", x=xs, y=ys, customdata=data, text=names, name="click",
                 marker=dict(symbol="square", size=sizes, color="rgba(0,0,0,0.01)"),
                 hovertemplate=f"%{{text}} · {click_hint}<extra></extra>")
    right = placed[-1].left + placed[-1].width
    axis = dict(visible=False, fixedrange=True, showgrid=False, zeroline=False)
    return {"data": [*traces, click], "layout": dict(
        height=height, margin=dict(l=4, r=4, t=4, b=4), showlegend=False, dragmode=False, clickmode="event+select",
        plot_bgcolor="rgba(0,0,0,0)", annotations=notes, hovermode="closest",
        xaxis=dict(axis, range=[-0.1, right + 0.1], constrain="domain"),
        yaxis=dict(axis, range=[HEIGHT + 0.1, -TOP], scaleanchor="x", constrain="domain"))}


@dataclass(frozen=True)
class Shown:
    """Which network the pipeline shows: a finished run (its label as the other pages list it) or the untrained one."""

    label: str | None  # None: the untrained LeNet-5 of seed 0
    activation: str  # the model's activation, e.g. "tanh"
    normalize: bool  # its input went through Normalize((0.5,), (0.5,))
    padding: int  # conv1's padding
    kernel: list[list[list[float]]]  # conv1's weights (C, k, k): a channel's kernel for the grid link
    bias: list[float]  # conv1's biases (C,)


def shown_of(model: torch.nn.Module, label: str | None, normalize: bool) -> Shown:
    """What the deep links need to know of the network on show (a LeNet5: config, conv1)."""
    conv1 = model.conv1
    return Shown(label, model.config.activation, normalize, int(conv1.padding[0]), conv1.weight.detach()[:, 0].tolist(),
                 conv1.bias.detach().tolist())


def deep_link(layer: str, channel: int, index: int, shown: Shown, logits: list[float], label: int
              ) -> tuple[str, dict[str, str]]:
    """(url_path, query) of the page that explains a clicked channel, opened on this digit and, where that page can
    take it, this very channel: conv1 -> the convolution with this kernel, act1 -> the activation page's feature map,
    the logits -> softmax and cross-entropy of these logits."""
    digit = {"conv_src": "digit", "conv_digit": str(index)}
    if layer == "conv1":
        query = {**digit, "conv_norm": str(shown.normalize).lower(), "conv_pad": str(shown.padding)}
        if shown.label is not None:  # the convolution page offers every conv1 channel of the run
            return "convolution", {**query, "conv_kernel": "lenet", "conv_model": shown.label,
                                   "conv_filter": str(channel + 1)}
        kernel = shown.kernel[channel]
        grid = ";".join(",".join(f"{v:.4f}" for v in row) for row in kernel)
        return "convolution", {**query, "conv_kernel": "grid", "conv_kh": str(len(kernel)),
                               "conv_kw": str(len(kernel[0])), "conv_kgrid": grid,
                               "conv_bias": f"{shown.bias[channel]:.4f}"}
    if layer in ("conv2", "act2"):
        return ("convolution", digit) if layer == "conv2" else ("activations", {"act_digit": str(index)})
    if layer == "act1":
        query = {"act_model": shown.label or "untrained", "act_digit": str(index), "act_fmap": shown.activation}
        return "activations", {**query, "act_channel": str(channel + 1)}
    if layer in ("pool1", "pool2"):
        return "pooling", {"pool_src": "fmap", "pool_digit": str(index)}
    if layer == "input":
        return "image_tensor", {"it_digit": str(index)}
    if layer == "fc3":
        return "softmax", {"sm_logits": ", ".join(f"{v:.4g}" for v in logits), "sm_target": str(label)}
    return "model_building", {}
