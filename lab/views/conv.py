"""Drawing of the convolution page (shell): number grids, the sliding window, clickable maps. The pooling page's
view builds on the same grids. (The widgets that go with them, cell sliders, Play, editable grids, are in lab/ui.py.)"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import streamlit as st
import torch

from lab.ui import fmt, t

WINDOW = "#ff7f0e"  # the receptive field / pooling window
CELL = "#d62728"  # the current output cell and the max-pooling winner
SMALL = 12  # grids up to this size show their numbers
PADDING = "rgba(70, 130, 230, 0.35)"  # shading over the zero border added by padding


def factor(v: float, digits: int = 2) -> str:
    """A number inside a product: negatives in brackets, 1x(-1)."""
    text = fmt(v, digits)
    return f"({text})" if text.startswith("-") else text


def arithmetic(window: torch.Tensor, kernel: torch.Tensor, total: float, digits: int = 2) -> tuple[str, str]:
    """The sum written out for one channel, row by row: '(1×1 + 1×0 + ...) + (...)' and '(1 + 0 - 1) + ...'."""
    products = (window * kernel).tolist()
    groups = [" + ".join(f"{factor(a, digits)}×{factor(b, digits)}" for a, b in zip(wr, kr))
              for wr, kr in zip(window.tolist(), kernel.tolist())]
    partial = [" ".join((fmt(p, digits) if i == 0 else (f"- {fmt(-p, digits)}" if p < 0 else f"+ {fmt(p, digits)}"))
                        for i, p in enumerate(row)) for row in products]
    return " + ".join(f"({g})" for g in groups), " + ".join(f"({p})" for p in partial) + f" = {fmt(total, digits)}"


def figure(title: str, height: int, h: int, w: int, pad: int = 0) -> dict:
    """An empty figure spec for an h x w grid (plus pad cells each side): square cells, row 0 at the top.

    Figures are plain dicts, validated once by st.plotly_chart: building them with go.Figure's update_* and
    add_shape calls cost about 0.2 s per figure here (plotly re-parses its property paths on every call)."""
    axis = dict(showticklabels=False, showgrid=False, zeroline=False)
    return {"data": [], "layout": dict(
        title=dict(text=title, font=dict(size=14)), height=height, margin=dict(l=4, r=4, t=30, b=4),
        plot_bgcolor="#c8c8c8", shapes=[], showlegend=False,
        xaxis=dict(axis, range=[-pad - 0.5, w + pad - 0.5], constrain="domain"),
        yaxis=dict(axis, range=[h + pad - 0.5, -pad - 0.5], scaleanchor="x", constrain="domain"))}


def heat(z: torch.Tensor | np.ndarray | list, colorscale: str = "RdBu", zmin: float | None = None,
         zmax: float | None = None, zmid: float | None = None, digits: int = 2, numbers: bool = True) -> dict:
    """A heatmap trace; small grids get their numbers written in and thin gaps between cells."""
    rows = z.tolist() if hasattr(z, "tolist") else z
    h, w = len(rows), len(rows[0]) if rows else 0
    trace = dict(type="heatmap", z=rows, colorscale=colorscale, showscale=False, hoverinfo="skip")
    trace.update({k: v for k, v in dict(zmin=zmin, zmax=zmax, zmid=zmid).items() if v is not None})
    if max(h, w) <= SMALL:
        trace.update(xgap=2, ygap=2)
        if numbers:
            size = (14 if max(h, w) <= 3 else 12 if max(h, w) <= 5 else 11) - (1 if digits > 2 else 0)
            trace.update(text=[[fmt(v, digits) if v is not None else "" for v in r] for r in rows],
                         texttemplate="%{text}", textfont=dict(size=size))
    return trace


def grid_figure(z: torch.Tensor | np.ndarray, title: str = "", colorscale: str = "RdBu", zmid: float | None = 0.0,
                digits: int = 2, height: int = 220, zrange: tuple[float, float] | None = None) -> dict:
    """A small annotated heatmap (row 0 at the top)."""
    z = np.asarray(z, dtype=float)
    fig = figure(title, height, *z.shape)
    lo, hi = zrange if zrange else (None, None)
    fig["data"].append(heat(z, colorscale, lo, hi, zmid if zrange is None else None, digits))
    return fig


def outline(fig: dict, top: float, left: float, bottom: float, right: float, color: str, width: int = 3,
            dash: str | None = None) -> None:
    """A rectangle around cells [top..bottom] x [left..right] (inclusive cell indices)."""
    fig["layout"]["shapes"].append(dict(type="rect", x0=left - 0.5, x1=right + 0.5, y0=top - 0.5, y1=bottom + 0.5,
                                        line=dict(color=color, width=width, dash=dash or "solid")))


def mark_cells(fig: dict, rows: Sequence[int], cols: Sequence[int], color: str, size: int = 10,
               symbol: str = "square-open") -> None:
    """Markers on chosen cells (the pixels a dilated kernel touches, the max-pooling winner)."""
    fig["data"].append(dict(type="scatter", x=list(cols), y=list(rows), mode="markers", hoverinfo="skip",
                            marker=dict(symbol=symbol, size=size, color=color, line=dict(width=2, color=color))))


def click_layer(fig: dict, h: int, w: int, height: int, hover: Sequence[str] | None = None) -> None:
    """Almost transparent square markers over every cell: a plain heatmap reports no clicked point, these do."""
    ys, xs = np.divmod(np.arange(h * w), w)
    size = max(6, int(0.8 * (height - 40) / max(h, w)))
    trace = dict(type="scatter", x=xs.tolist(), y=ys.tolist(), mode="markers",
                 marker=dict(symbol="square", size=size, color="rgba(0,0,0,0.01)"),
                 selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=0.01)))
    if hover is not None:
        trace.update(text=list(hover), hovertemplate="%{text}<extra></extra>")
    fig["data"].append(trace)
    fig["layout"].update(clickmode="event+select", dragmode=False, hovermode="closest")


def size_formula(name: str, n: int, k: int, p: int, d: int, s: int, out: int) -> str:
    """PyTorch's output-size rule for one side in LaTeX, with this page's numbers put in (out comes from core)."""
    return (rf"{name}_{{out}}=\left\lfloor\frac{{{name}+2P-D(K-1)-1}}{{S}}\right\rfloor+1"
            rf"=\left\lfloor\frac{{{n}+2\cdot{p}-{d}\cdot({k}-1)-1}}{{{s}}}\right\rfloor+1={out}")


def _image_layer(fig: dict, padded: torch.Tensor, digits: int) -> None:
    """The padded input: a grey heatmap for one channel, the picture itself for three."""
    if padded.shape[0] == 3:
        lo, hi = float(padded.min()), float(padded.max())
        rgb = ((padded - lo) / max(hi - lo, 1e-12) * 255).round().permute(1, 2, 0)  # (H, W, 3) for display
        fig["data"].append(dict(type="image", z=rgb.tolist(), hoverinfo="skip"))
        return
    fig["data"].append(heat(padded[0], "gray", digits=digits))


def conv_input_figure(trace, row: int, col: int, h: int, w: int, title: str, height: int, digits: int = 2) -> dict:
    """The padded input with the original picture outlined and the cells under the kernel framed."""
    hp, wp = trace.padded.shape[1:]
    fig = figure(title, height, hp, wp)
    _image_layer(fig, trace.padded, digits)
    p = trace.padding
    if p:  # the zero border torch adds: shaded, and the picture itself outlined
        for top, left, bottom, right in ((0, 0, p - 1, wp - 1), (hp - p, 0, hp - 1, wp - 1), (p, 0, hp - p - 1, p - 1),
                                         (p, wp - p, hp - p - 1, wp - 1)):
            fig["layout"]["shapes"].append(dict(type="rect", x0=left - 0.5, x1=right + 0.5, y0=top - 0.5,
                                                y1=bottom + 0.5, fillcolor=PADDING, line=dict(width=0)))
        outline(fig, p, p, p + h - 1, p + w - 1, "#1f77b4", 2, "dash")
    rows, cols = trace.field(row, col)
    outline(fig, rows[0], cols[0], rows[-1], cols[-1], WINDOW)
    if trace.dilation > 1:
        size = max(6, int(0.7 * (height - 40) / max(hp, wp)))
        mark_cells(fig, [r for r in rows for _ in cols], [c for _ in rows for c in cols], WINDOW, size)
    return fig


def output_figure(output: torch.Tensor, row: int, col: int, title: str, height: int, digits: int = 2,
                  fill: bool = True) -> dict:
    """The output map filled in up to cell (row, col) in row-major order, that cell framed, every cell clickable."""
    h, w = output.shape
    values = output.tolist()
    upto = row * w + col
    z = [[v if (not fill or i * w + j <= upto) else None for j, v in enumerate(r)] for i, r in enumerate(values)]
    top = max((abs(v) for r in values for v in r if math.isfinite(v)), default=1.0) or 1.0
    fig = figure(title, height, h, w)
    fig["data"].append(heat(z, "RdBu", -top, top, digits=digits))
    outline(fig, row, col, row, col, CELL)
    click_layer(fig, h, w, height, [f"({i}, {j}) = {fmt(v, digits)}" for i, r in enumerate(values)
                                    for j, v in enumerate(r)])
    return fig


def conv_cell(step, trace, digits: int, bias: float) -> None:
    """Window ⊙ kernel = products for each channel, the sum written out, and the channels added up."""
    names = ["R", "G", "B"] if trace.kernel.shape[0] == 3 else [""] * trace.kernel.shape[0]
    lines = []
    side = 60 + 34 * max(trace.kernel.shape[1:])
    height = min(260, max(150, side))
    for c, name in enumerate(names):
        cols = st.columns([3, 1, 3, 1, 3, 2], vertical_alignment="center")
        prefix = f"{name} · " if name else ""
        lo, hi = float(trace.padded.min()), float(trace.padded.max())
        cols[0].plotly_chart(grid_figure(step.window[c], prefix + t("conv.window"), "gray", None, digits, height,
                                         (lo, hi)), width="stretch", config={"staticPlot": True})
        cols[1].markdown("## ⊙")
        cols[2].plotly_chart(grid_figure(trace.kernel[c], prefix + t("conv.kernel_title"), digits=digits,
                                         height=height), width="stretch", config={"staticPlot": True})
        cols[3].markdown("## =")
        cols[4].plotly_chart(grid_figure(step.products[c], prefix + t("conv.products"), digits=digits, height=height),
                             width="stretch", config={"staticPlot": True})
        cols[5].metric(t("conv.channel_sum", channel=name) if name else t("conv.sum"),
                       fmt(float(step.channel_sums[c]), digits))
        terms, partial = arithmetic(step.window[c], trace.kernel[c], float(step.channel_sums[c]), digits)
        lines += [f"{prefix}{terms} =", f"{' ' * len(prefix)}{partial}"]
    parts = [fmt(float(v), digits) for v in step.channel_sums] + ([fmt(bias, digits)] if bias else [])
    if len(parts) > 1:
        lines.append(" + ".join(f"({p})" if p.startswith("-") else p for p in parts) + f" = {fmt(step.total, digits)}")
    st.markdown(t("conv.cell_value", row=step.row, col=step.col, value=fmt(step.total, digits)))
    st.code("\n".join(lines), language=None, wrap_lines=True)
