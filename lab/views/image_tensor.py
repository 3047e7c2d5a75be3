"""Drawing of the image-to-tensor page (shell): numbers in, plain figure dicts out (drawn with lab.figures.show), no
maths. value_grid and tiles are the dataset page's too."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from core.augment import Augmented
from core.image_tensor import Histogram
from lab.ui import t

MARGIN = dict(l=10, r=10, t=40, b=10)
STAGE_COLORS = ("#7f7f7f", "#4c78a8", "#f58518")  # stored 0-255, ToTensor, Normalize
GREY = [[0.0, "#000000"], [1.0, "#ffffff"]]  # spelled out: plotly.js has no "gray" (these dicts are not validated)
# each channel from white (0) to its own colour (1), all three the same way round (plotly.js's "Reds" ran light to
# red but its "Greens" and "Blues" dark to light, so a bright green or blue pixel looked pale)
CHANNELS = tuple([[0.0, "#ffffff"], [1.0, colour]] for colour in ("rgb(215,0,0)", "rgb(0,150,0)", "rgb(0,0,215)"))
WINDOW = "#f58518"  # the zoomed region's frame
HIDDEN = dict(visible=False, showgrid=False, zeroline=False, fixedrange=True)


def _array(values: torch.Tensor) -> np.ndarray:
    """float32 for the browser: one base64 block instead of nested lists."""
    return values.detach().to(torch.float32).numpy().copy()


def value_grid(values: torch.Tensor, decimals: int | None, height: int = 620, zrange: tuple[float, float] | None = None,
               origin: tuple[int, int] = (0, 0), frame: tuple[int, int, int] | None = None, font: int = 8,
               axes: tuple[str, str] | None = None) -> dict:
    """A 2-D tensor as a grey heatmap, row 0 at the top; every value written in its cell unless decimals is None.
    origin: the (row, col) of values[0, 0] in the whole picture (a zoomed window keeps the picture's indices);
    frame: (row, col, size) of a square to outline; axes: (x title, y title) to name the pixel axes, else hidden."""
    z = _array(values)
    lo, hi = zrange if zrange else (float(z.min()), float(z.max()))
    r0, c0 = origin
    trace = dict(type="heatmap", z=z, x0=c0, y0=r0, zmin=lo, zmax=hi, colorscale=GREY, showscale=False,
                 hovertemplate=t("app.hover_cell") + "<extra></extra>")
    if decimals is not None:
        trace.update(texttemplate=f"%{{z:.{decimals}f}}", textfont=dict(size=font))
    h, w = z.shape
    if axes:
        x_axis = dict(title=dict(text=axes[0]), side="top", tickmode="linear", tick0=c0, dtick=1 if w <= 14 else 4,
                      showgrid=False, zeroline=False, fixedrange=True)
        y_axis = dict(title=dict(text=axes[1]), tickmode="linear", tick0=r0, dtick=1 if h <= 14 else 4,
                      showgrid=False, zeroline=False, fixedrange=True)
    else:
        x_axis, y_axis = dict(HIDDEN), dict(HIDDEN)
    x_axis.update(range=[c0 - 0.5, c0 + w - 0.5], constrain="domain")
    y_axis.update(range=[r0 + h - 0.5, r0 - 0.5], scaleanchor="x", constrain="domain")
    shapes = []
    if frame is not None:
        fr, fc, size = frame
        shapes.append(dict(type="rect", x0=fc - 0.5, x1=fc + size - 0.5, y0=fr - 0.5, y1=fr + size - 0.5,
                           line=dict(color=WINDOW, width=3)))
    return {"data": [trace], "layout": dict(height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis=x_axis,
                                            yaxis=y_axis, shapes=shapes, dragmode=False)}


def tiles(images: Sequence[torch.Tensor] | torch.Tensor, captions: Sequence[str], zrange: tuple[float, float],
          height: int, above: bool = False, font: int = 11, gap: int = 4) -> dict:
    """Small grey pictures (each (H, W)) side by side on one pair of axes, each with a caption under it (or above)."""
    data, notes = [], []
    for i, (img, caption) in enumerate(zip(images, captions)):
        h, w = img.shape[-2:]
        x0 = i * (w + gap)
        data.append(dict(type="heatmap", z=_array(img.double()), x0=x0, y0=0, colorscale=GREY, zmin=zrange[0],
                         zmax=zrange[1], showscale=False, hoverinfo="skip"))
        notes.append(dict(text=caption, x=x0 + (w - 1) / 2, y=-1 if above else h, xref="x", yref="y",
                          yanchor="bottom" if above else "top", showarrow=False, font=dict(size=font)))
    n = len(data)
    h, w = (images[0].shape[-2:] if n else (28, 28))
    top, bottom = (-0.5 - 7, h - 0.5) if above else (-0.5, h - 0.5 + 7)
    return {"data": data, "layout": dict(
        height=height, margin=dict(l=5, r=5, t=5, b=5), annotations=notes, dragmode=False,
        xaxis=dict(HIDDEN, range=[-0.5, n * (w + gap) - gap - 0.5], constrain="domain"),
        yaxis=dict(HIDDEN, range=[bottom, top], scaleanchor="x", constrain="domain"))}


def histograms(hists: Sequence[Histogram], titles: Sequence[str], colors: Sequence[str], x_titles: Sequence[str],
               y_title: str) -> dict:
    """One bar chart of counts per histogram, side by side, each naming its axes (value range; pixels, log scale)."""
    n, gap = len(hists), 0.07
    width = (1 - gap * (n - 1)) / n
    data, layout = [], dict(height=280, margin=dict(l=10, r=10, t=40, b=10), bargap=0.05, showlegend=False,
                            annotations=[])
    for i, (h, color, title, x_title) in enumerate(zip(hists, colors, titles, x_titles)):
        suffix = "" if i == 0 else str(i + 1)
        edges = h.edges.numpy()
        centers, widths = (edges[:-1] + edges[1:]) / 2, edges[1:] - edges[:-1]
        data.append(dict(type="bar", x=centers.tolist(), y=h.counts.tolist(), width=widths.tolist(),
                         marker=dict(color=color), xaxis=f"x{suffix}", yaxis=f"y{suffix}",
                         hovertemplate="%{x:.3g}: %{y}<extra></extra>"))
        left = i * (width + gap)
        layout[f"xaxis{suffix}"] = dict(domain=[left, left + width], anchor=f"y{suffix}", title=dict(text=x_title),
                                        fixedrange=True)
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", type="log", fixedrange=True,
                                        title=dict(text=y_title if i == 0 else ""))
        layout["annotations"].append(dict(text=title, x=left + width / 2, y=1.0, xref="paper", yref="paper",
                                          yanchor="bottom", showarrow=False, font=dict(size=13)))
    return {"data": data, "layout": layout}


def channels_figure(small: torch.Tensor, h: int, w: int, row: int, col: int) -> dict:
    """A (3, h', w') preview of an h x w picture: the picture and its R, G, B channels, pixel (row, col) framed in
    each (four panels side by side, square pixels)."""
    scale_y, scale_x = small.shape[1] / h, small.shape[2] / w
    sh, sw = small.shape[1:]
    titles = [t("image_tensor.picture")] + [t("image_tensor.channel", c=c, name=n) for c, n in enumerate("RGB")]
    data, layout, gap = [], dict(height=260, margin=dict(l=10, r=10, t=40, b=10), showlegend=False, dragmode=False,
                                 annotations=[]), 0.03
    width = (1 - 3 * gap) / 4
    data.append(dict(type="image", z=(small.permute(1, 2, 0) * 255).round().byte().tolist(), xaxis="x", yaxis="y"))
    for c, scale in enumerate(CHANNELS):
        data.append(dict(type="heatmap", z=_array(small[c]), colorscale=scale, zmin=0, zmax=1, showscale=False,
                         xaxis=f"x{c + 2}", yaxis=f"y{c + 2}"))
    for i in range(4):
        suffix = "" if i == 0 else str(i + 1)
        data.append(dict(type="scatter", x=[(col + 0.5) * scale_x - 0.5], y=[(row + 0.5) * scale_y - 0.5],
                         mode="markers", marker=dict(symbol="square-open", size=14, color="black", line=dict(width=2)),
                         hoverinfo="skip", xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
        left = i * (width + gap)
        layout[f"xaxis{suffix}"] = dict(HIDDEN, domain=[left, left + width], range=[-0.5, sw - 0.5],
                                        anchor=f"y{suffix}", constrain="domain")
        layout[f"yaxis{suffix}"] = dict(HIDDEN, range=[sh - 0.5, -0.5], anchor=f"x{suffix}",
                                        scaleanchor=f"x{suffix}", constrain="domain")
        layout["annotations"].append(dict(text=titles[i], x=left + width / 2, y=1.0, xref="paper", yref="paper",
                                          yanchor="bottom", showarrow=False, font=dict(size=13)))
    return {"data": data, "layout": layout}


def augmented_figure(aug: Augmented) -> dict:
    """The digit and its augmented copies in a row, each titled with its drawn angle, shift and scale."""
    titles = [t("image_tensor.aug_original")] + [f"{a:+.1f}° ({dx:+d}, {dy:+d}) ×{z:.2f}"
                                                 for a, (dx, dy), z in zip(aug.angles, aug.shifts, aug.scales)]
    return tiles([aug.original, *aug.variants], titles, (0.0, 1.0), height=170, above=True, font=10, gap=6)
