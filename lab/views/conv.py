"""Drawing of the convolution page (shell): number grids; the step-through, one figure whose frames the browser plays
(with the cell a link names, clicks on the output map, bands of rows for large maps); the "your turn" questions. The
pooling page's view builds on the same pieces. (The editable grids are in lab/ui.py.)"""
from __future__ import annotations

import math
import re
from functools import cache
from typing import Sequence

import numpy as np
import streamlit as st
import torch

from lab.figures import PRESENTER_SCALE, show
from lab.ui import fmt, presenting, t

WINDOW = "#ff7f0e"  # the receptive field / pooling window
CELL = "#d62728"  # the current output cell and the max-pooling winner
SMALL = 12  # grids up to this size show their numbers
PADDING = "rgba(70, 130, 230, 0.35)"  # shading over the zero border added by padding


SIGNED = "RdBu_r"  # plotly.py's name: negative blue, zero white, positive red, as on the home page and the training page


@cache
def colours(name: str) -> list:
    """A colour scale by its plotly.py name as explicit stops. Figures reach plotly.js unvalidated, and plotly.js
    reads names its own way: it has no "gray", and its "RdBu" and "Blues" run the other way round."""
    import plotly.colors

    return plotly.colors.get_colorscale(name)


def figure(title: str, height: int, h: int, w: int, pad: int = 0) -> dict:
    """An empty figure spec for an h x w grid (plus pad cells each side): square cells, row 0 at the top.

    Figures are plain dicts drawn by lab.figures.show without validation: building them with go.Figure's update_*
    and add_shape calls cost about 0.2 s per figure here (plotly re-parses its property paths on every call)."""
    axis = dict(showticklabels=False, showgrid=False, zeroline=False)
    return {"data": [], "layout": dict(
        title=dict(text=title, font=dict(size=14)), height=height, margin=dict(l=4, r=4, t=30, b=4),
        plot_bgcolor="#c8c8c8", shapes=[], showlegend=False,
        xaxis=dict(axis, range=[-pad - 0.5, w + pad - 0.5], constrain="domain"),
        yaxis=dict(axis, range=[h + pad - 0.5, -pad - 0.5], scaleanchor="x", constrain="domain"))}


def heat(z: torch.Tensor | np.ndarray | list, colorscale: str = SIGNED, zmin: float | None = None,
         zmax: float | None = None, zmid: float | None = None, digits: int = 2, numbers: bool = True) -> dict:
    """A heatmap trace; small grids get their numbers written in and thin gaps between cells."""
    rows = z.tolist() if hasattr(z, "tolist") else z
    h, w = len(rows), len(rows[0]) if rows else 0
    trace = dict(type="heatmap", z=rows, colorscale=colours(colorscale), showscale=False, hoverinfo="skip")
    trace.update({k: v for k, v in dict(zmin=zmin, zmax=zmax, zmid=zmid).items() if v is not None})
    if max(h, w) <= SMALL:
        trace.update(xgap=2, ygap=2)
        if numbers:
            size = (14 if max(h, w) <= 3 else 12 if max(h, w) <= 5 else 11) - (1 if digits > 2 else 0)
            trace.update(text=[[fmt(v, digits) if v is not None else "" for v in r] for r in rows],
                         texttemplate="%{text}", textfont=dict(size=size))
    return trace


def grid_figure(z: torch.Tensor | np.ndarray, title: str = "", colorscale: str = SIGNED, zmid: float | None = 0.0,
                digits: int = 2, height: int = 220, zrange: tuple[float, float] | None = None) -> dict:
    """A small annotated heatmap (row 0 at the top)."""
    z = np.asarray(z, dtype=float)
    fig = figure(title, height, *z.shape)
    lo, hi = zrange if zrange else (None, None)
    fig["data"].append(heat(z, colorscale, lo, hi, zmid if zrange is None else None, digits))
    return fig


def size_formula(name: str, n: int, k: int, p: int, d: int, s: int, out: int) -> str:
    """PyTorch's output-size rule for one side in LaTeX, with this page's numbers put in (out comes from core)."""
    return (rf"{name}_{{out}}=\left\lfloor\frac{{{name}+2P-D(K-1)-1}}{{S}}\right\rfloor+1"
            rf"=\left\lfloor\frac{{{n}+2\cdot{p}-{d}\cdot({k}-1)-1}}{{{s}}}\right\rfloor+1={out}")



# ---- the step-through: one figure whose frames hold every step, played and scrubbed in the browser ----------------
# The server builds the figure once per setting; the Plotly slider and the Play buttons then move through its frames
# with no rerun (issue 13). A frame carries only what changes at that step (the window's outline, the cover over the
# cells still to come, the colours of the window's and the products' cells, the sums written out); the maps and the
# kernel are sent once. Everything that moves is a scatter trace, which Plotly updates without redrawing the whole
# figure ("redraw": false): a heatmap would need a full redraw per frame, measured at 0.1-0.6 s in headless Chromium.

PLAY_MS = 50  # Play: a step every 50 ms; with the browser's 20-40 ms a frame, 12-20 steps a second (reruns: 1)
SLOW_MS = 500  # Slowly: two steps a second, time to say what each cell does
MAX_FRAMES = 240  # frames in one figure: a 28x28 map is stepped through a band of rows at a time (see frame_range)
HIDDEN = "#e6e6e6"  # small maps: the cells still to come are hidden (predict them first)
FAINT = "rgba(240, 240, 240, 0.75)"  # large maps (a digit's): the whole map shows faintly, the part done is solid
INK = "#262730"  # text inside figures, as Streamlit's own
TOP_H, TITLE_H, CTRL_H = 330, 44, 96  # pixel heights: the maps, the cell's line, the buttons and slider below
MIN_W = 640  # the figure is at least this wide (beside the controls at 1366x768): the small grids are laid out for it


@cache
def number(v: float, digits: int = 2) -> str:
    """fmt, remembered: a step-through writes the same few numbers thousands of times (0, -1, the kernel's)."""
    return fmt(v, digits)


def text_scale() -> float:
    """How much larger lab.figures.show makes a figure's text: the step-throughs lay out their rows for it."""
    return PRESENTER_SCALE if presenting() else 1.0


def set_height(fig: dict, pixels: float, k: float) -> None:
    """The figure's height; lab.figures.show multiplies it by 1 + (k - 1) / 2 in presenter mode, so undo that here:
    the rows are laid out in pixels for the text's real size already."""
    fig["layout"]["height"] = round(pixels / (1 + (k - 1) / 2))


def written_sum(values: Sequence[float], digits: int = 2) -> str:
    """'1 + 0 - 1': a sum written out, subtractions for negative terms."""
    out = ""
    for i, v in enumerate(values):
        text = number(abs(v) if i else v, digits)
        out += text if i == 0 else (f" - {text}" if v < 0 and text != "0" else f" + {text}")
    return out


def frame_range(h_out: int, w_out: int, row: int, limit: int = MAX_FRAMES) -> tuple[int, int]:
    """First and last step (row-major) that get frames: every step when they fit in `limit`, else the band of whole
    rows that holds `row` (bands of limit // w_out rows, from the top)."""
    if h_out * w_out <= limit:
        return 0, h_out * w_out - 1
    band = max(1, limit // w_out)
    top = (row // band) * band
    return top * w_out, min(h_out, top + band) * w_out - 1


def frame_limit(channels: int) -> int:
    """Frames in one figure: fewer for a colour picture, whose frames carry three channels (about 2 KB each)."""
    return MAX_FRAMES if channels == 1 else MAX_FRAMES // 2


def bands(h_out: int, w_out: int, limit: int = MAX_FRAMES) -> list[int]:
    """The first row of each band frame_range can show (one band when every step fits)."""
    band = h_out if h_out * w_out <= limit else max(1, limit // w_out)
    return list(range(0, h_out, band))


def box(top: float, left: float, bottom: float, right: float) -> tuple[list[float], list[float]]:
    """A closed outline around cells [top..bottom] x [left..right] (inclusive), as a line's x and y."""
    x0, x1, y0, y1 = left - 0.5, right + 0.5, top - 0.5, bottom + 0.5
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def rest_mask(row: int, col: int, h: int, w: int) -> tuple[list[float], list[float]]:
    """A polygon over the cells after (row, col) in reading order: the rest of its row and every row below."""
    if row * w + col >= h * w - 1:
        return [], []
    c, r, right, bottom = col + 0.5, row - 0.5, w - 0.5, h - 0.5
    return [c, right, right, -0.5, -0.5, c, c], [r, r, bottom, bottom, r + 1, r + 1, r]


def grid_axes(layout: dict, n: int, x: tuple[float, float], y: tuple[float, float],
              xr: tuple[float, float] | None = None, yr: tuple[float, float] | None = None) -> tuple[str, str]:
    """Hidden axes number n on a domain: a grid of cells (square, row 0 at the top) or, with no ranges, a text box
    whose x and y run 0..1."""
    hide = dict(visible=False, showgrid=False, zeroline=False, fixedrange=True)
    name = "" if n == 1 else str(n)
    if xr is None:
        layout[f"xaxis{name}"] = dict(hide, domain=list(x), range=[0, 1], anchor=f"y{name}")
        layout[f"yaxis{name}"] = dict(hide, domain=list(y), range=[0, 1], anchor=f"x{name}")
    else:
        layout[f"xaxis{name}"] = dict(hide, domain=list(x), range=list(xr), anchor=f"y{name}", constrain="domain")
        layout[f"yaxis{name}"] = dict(hide, domain=list(y), range=list(yr), anchor=f"x{name}", constrain="domain",
                                      constraintoward="top", scaleanchor=f"x{name}")
    return f"x{name}", f"y{name}"


def subplot_title(layout: dict, text: str, x: tuple[float, float], y_top: float, size: int = 13) -> None:
    """A subplot's title just above its domain."""
    layout["annotations"].append(dict(text=text, x=sum(x) / 2, y=y_top, xref="paper", yref="paper", showarrow=False,
                                      xanchor="center", yanchor="bottom", font=dict(size=size, color=INK)))


def cells(z: list, axes: tuple[str, str], colorscale: str, digits: int, zmin: float | None = None,
          zmax: float | None = None, zmid: float | None = None) -> dict:
    """A map that does not move (the input, the output) as a heatmap; small ones with their numbers written in."""
    trace = heat(z, colorscale, zmin, zmax, zmid, digits)
    trace.update(xaxis=axes[0], yaxis=axes[1])
    return trace


def squares(xs: list[float], ys: list[float], values: list[float], axes: tuple[str, str], colorscale: str,
            cmin: float, cmax: float, digits: int, px: int) -> dict:
    """Small grids (windows, kernels, products) as square markers px wide at (xs, ys), coloured and numbered by their
    values: a frame changes only the colours (marker.color, and the numbers' ink), and Plotly moves a scatter trace
    without redrawing the figure."""
    return dict(type="scatter", x=xs, y=ys, mode="markers+text", hoverinfo="skip",
                xaxis=axes[0], yaxis=axes[1], texttemplate=f"%{{marker.color:.{digits}~f}}",
                textposition="middle center",
                textfont=dict(size=max(9, min(14, px // 3 + 2)) - (1 if digits > 2 else 0),
                              color=ink(values, colorscale, cmin, cmax)),
                marker=dict(symbol="square", size=px - 3, color=values, colorscale=colours(colorscale), cmin=cmin,
                            cmax=cmax, line=dict(width=1, color="#d0d0d0")))  # white cells keep an edge


def ink(values: Sequence[float], colorscale: str, cmin: float, cmax: float) -> list[str]:
    """White numbers on dark cells, dark ones on light cells (what a heatmap does for its own numbers)."""
    dark, span = _dark(colorscale), (cmax - cmin) or 1.0
    return ["#fff" if dark[round(min(max((v - cmin) / span, 0.0), 1.0) * 100)] else "#222" for v in values]


@cache
def _dark(colorscale: str) -> tuple[bool, ...]:
    """Whether the colour scale is dark at 0%, 1%, ..., 100% of its range (luminance below about 55%)."""
    import plotly.colors

    rgb = plotly.colors.sample_colorscale(colours(colorscale), [i / 100 for i in range(101)])
    return tuple(0.299 * r + 0.587 * g + 0.114 * b < 140 for r, g, b in map(plotly.colors.unlabel_rgb, rgb))


def rounded(x: torch.Tensor, digits: int) -> list:
    """A tensor as nested lists rounded for display (no -0)."""
    return numbers(x, digits)


def line(xy: tuple[list[float], list[float]], axes: tuple[str, str], color: str, width: int = 3) -> dict:
    """An outline drawn as a line (data, so a frame can move it)."""
    return dict(type="scatter", x=xy[0], y=xy[1], mode="lines", line=dict(color=color, width=width), hoverinfo="skip",
                xaxis=axes[0], yaxis=axes[1])


def mask(xy: tuple[list[float], list[float]], axes: tuple[str, str], color: str) -> dict:
    """The cover over the cells still to come."""
    return dict(type="scatter", x=xy[0], y=xy[1], mode="lines", fill="toself", fillcolor=color, line=dict(width=0),
                hoverinfo="skip", hoveron="points", xaxis=axes[0], yaxis=axes[1])


def words(text: str, axes: tuple[str, str], x: float = 0.5, anchor: str = "middle center", size: int = 14) -> dict:
    """A line (or lines, <br>) of text inside the figure, in a text box's axes; frames change its text."""
    return dict(type="scatter", x=[x], y=[0.5], mode="text", text=[text], textposition=anchor,
                textfont=dict(size=size, color=INK), hoverinfo="skip", xaxis=axes[0], yaxis=axes[1])


def clickable(values: list, axes: tuple[str, str], size: int, digits: int) -> dict:
    """Almost transparent square markers over every cell of a map: a plain heatmap reports no clicked point, these
    do. Hovering one shows its cell and value."""
    h, w = len(values), len(values[0])
    ys, xs = np.divmod(np.arange(h * w), w)
    return dict(type="scatter", x=xs.tolist(), y=ys.tolist(), mode="markers", xaxis=axes[0], yaxis=axes[1],
                marker=dict(symbol="square", size=size, color="rgba(0,0,0,0.01)"),
                customdata=[v for r in values for v in r],
                hovertemplate=f"(%{{y}}, %{{x}}) = %{{customdata:.{digits}~f}}<extra></extra>",
                selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=0.01)))


def controls(fig: dict, first: int, last: int, active: int) -> None:
    """Play, Slowly and Pause buttons and a slider over frames first..last (named by their step), at `active`; the
    slider's labels stay empty (the figure writes out the cell on show).

    Plotly starts Play from the frame last shown by an animation; before any, from the first frame of the list. So
    Play lists the frames from the one a link opened at: it goes on from there (scrub back first to play earlier)."""
    names = [str(k) for k in range(first, last + 1)]
    show_now = dict(mode="immediate", transition=dict(duration=0))
    play = [names[active + 1:] or names, dict(show_now, frame=dict(duration=PLAY_MS, redraw=False), fromcurrent=True)]
    slow = [names[active + 1:] or names, dict(show_now, frame=dict(duration=SLOW_MS, redraw=False), fromcurrent=True)]
    pause = [[None], dict(show_now, frame=dict(duration=0, redraw=False))]
    fig["layout"]["updatemenus"] = [dict(
        type="buttons", direction="left", showactive=False, x=0, y=0, xanchor="left", yanchor="top",
        pad=dict(t=12, r=8), font=dict(size=13),
        buttons=[dict(label=t("conv.play"), method="animate", args=play),
                 dict(label=t("conv.play_slow"), method="animate", args=slow),
                 dict(label=t("conv.pause"), method="animate", args=pause)])]
    fig["layout"]["sliders"] = [dict(
        active=active, x=0, len=1, y=0, xanchor="left", yanchor="top", pad=dict(t=52, b=0), ticklen=0,
        tickcolor="rgba(0,0,0,0)", font=dict(color="rgba(0,0,0,0)", size=1), currentvalue=dict(visible=False),
        transition=dict(duration=0),
        steps=[dict(method="animate", label="", args=[[n], dict(show_now, frame=dict(duration=0, redraw=False))])
               for n in names])]


def conv_stepper(trace, h: int, w: int, first: int, last: int, at: int, digits: int = 2) -> dict:
    """The convolution step by step in one figure: the padded input with the window, the output map with the cells
    done, and per channel window ⊙ kernel = products with their sum written out; frames for steps first..last, the
    figure showing step `at` (and its slider there).

    Three subplots: the input, the output, and one for every small grid and text (a trace a kind, every channel in
    it): Plotly's time per frame grows with the number of traces and subplots (4-5 a channel measured 100+ ms)."""
    c, hp, wp = trace.padded.shape
    kh, kw = trace.kernel.shape[1:]
    h_out, w_out = trace.output.shape
    scale = text_scale()  # presenter mode: larger text, so taller rows of text and wider gaps for ⊙ and =
    lo, hi = float(trace.padded.min()), float(trace.padded.max())
    kmax = float(trace.kernel.abs().max()) or 1.0
    pmax = max(float(torch.stack([s.products for s in trace.steps]).abs().max()), 1e-12)

    # what the grids and the sums show at each step with a frame (and at the one on show)
    shown = sorted({*range(first, last + 1), at})
    windows = torch.stack([trace.steps[k].window for k in shown]).flatten(1)  # (steps, C * kh * kw)
    products = torch.stack([trace.steps[k].products for k in shown]).flatten(1)
    template = t("conv.cell_line")
    texts = {k: [cell_line(trace.steps[k], trace.bias, digits, template)] + [
        channel_sum(prod[ch * kh * kw:(ch + 1) * kh * kw], kw, float(trace.steps[k].channel_sums[ch]), digits)
        for ch in range(c)] for k, prod in zip(shown, numbers(products, digits))}
    state = dict(zip(shown, zip(numbers(windows, digits), inks(windows, "gray", lo, hi), numbers(products, digits),
                                inks(products, SIGNED, -pmax, pmax))))

    # the grids' layout, in cells: window, kernel, products side by side, a row per channel, the sum beside them
    # (or under them when it would not fit), the output cell's line on top
    longest = max(len(re.sub(r"<[^>]+>", "", ln)) for k in shown for tx in texts[k][1:] for ln in tx.split("<br>"))
    text_px, gap_px, title_px, line_px = longest * 7.2 * scale + 12, 44 * scale, 22 * scale, 17 * scale
    beside_px = (MIN_W - 2 * gap_px - text_px - 16) / (3 * kw)
    below = beside_px < 30  # (presenter mode's larger text: under the grids, the grids stay large)
    px = int(min(40, 150 / max(kh, kw), (MIN_W - 2 * gap_px - 16) / (3 * kw) if below else beside_px))
    g, title_u, line_u = gap_px / px, title_px / px, TITLE_H * scale / px
    text_h, text_w = line_px * (kh + 1) / px, text_px / px
    row_u = title_u + (kh + 0.3 + text_h if below else max(kh, text_h)) + 0.6
    height_u = line_u + c * row_u
    width_u = 3 * kw + 2 * g + (0 if below else 0.4 + text_w)
    top_h, ctrl_h = TOP_H, CTRL_H
    plot_h = top_h + height_u * px

    fig = {"data": [], "frames": [], "layout": dict(
        margin=dict(l=4, r=4, t=30 * scale, b=ctrl_h), plot_bgcolor="rgba(0,0,0,0)",
        showlegend=False, annotations=[], shapes=[], dragmode=False, hovermode="closest", clickmode="event+select")}
    set_height(fig, plot_h + ctrl_h + 30 * scale, scale)
    lay, data = fig["layout"], fig["data"]
    y_top = (1 - top_h / plot_h, 1.0)

    # the padded input, its padding shaded and the picture outlined
    ax_in = grid_axes(lay, 1, (0, 0.48), y_top, (-0.5, wp - 0.5), (hp - 0.5, -0.5))
    subplot_title(lay, t("conv.input_short"), (0, 0.48), 1.0)
    if c == 3:
        rgb = ((trace.padded - lo) / max(hi - lo, 1e-12) * 255).round().permute(1, 2, 0)  # (H, W, 3) for display
        data.append(dict(type="image", z=rgb.tolist(), hoverinfo="skip", xaxis=ax_in[0], yaxis=ax_in[1]))
    else:
        data.append(cells(rounded(trace.padded[0], digits), ax_in, "gray", digits))
    p = trace.padding
    if p:
        for top, left, bottom, right in ((0, 0, p - 1, wp - 1), (hp - p, 0, hp - 1, wp - 1), (p, 0, hp - p - 1, p - 1),
                                         (p, wp - p, hp - p - 1, wp - 1)):
            lay["shapes"].append(dict(type="rect", xref=ax_in[0], yref=ax_in[1], x0=left - 0.5, x1=right + 0.5,
                                      y0=top - 0.5, y1=bottom + 0.5, fillcolor=PADDING, line=dict(width=0)))
        data.append(dict(line(box(p, p, p + h - 1, p + w - 1), ax_in, "#1f77b4", 2),
                         line=dict(color="#1f77b4", width=2, dash="dash")))

    # the whole output map
    ax_out = grid_axes(lay, 2, (0.52, 1), y_top, (-0.5, w_out - 0.5), (h_out - 0.5, -0.5))
    subplot_title(lay, t("conv.output_short"), (0.52, 1), 1.0)
    values = rounded(trace.output, digits)
    top = max((abs(v) for r in values for v in r if math.isfinite(v)), default=1.0) or 1.0
    data.append(cells(values, ax_out, SIGNED, digits, -top, top))

    # the small grids: one subplot in cell units, square cells, row 0 at the top
    ax_g = grid_axes(lay, 3, (0, 1), (0, 1 - top_h / plot_h), (0, width_u), (height_u, 0))
    lay["xaxis3"]["constraintoward"] = "left"
    xs, ys, text_x, text_y = [], [], [], []
    for ch in range(c):
        row_top = line_u + ch * row_u + title_u
        prefix = f"{'RGB'[ch]} · " if c == 3 else ""
        for n, key in enumerate(("conv.window", "conv.kernel_title", "conv.products")):
            lay["annotations"].append(dict(text=prefix + t(key), x=n * (kw + g) + kw / 2, y=row_top, xref=ax_g[0],
                                           yref=ax_g[1], showarrow=False, yanchor="bottom",
                                           font=dict(size=12, color=INK)))
        for x, sym in ((kw + g / 2, "⊙"), (2 * kw + 1.5 * g, "=")):
            lay["annotations"].append(dict(text=sym, x=x, y=row_top + kh / 2, xref=ax_g[0], yref=ax_g[1],
                                           showarrow=False, font=dict(size=26, color=INK)))
        ys += [row_top + i + 0.5 for i in range(kh) for _ in range(kw)]
        xs += [j + 0.5 for _ in range(kh) for j in range(kw)]
        text_x.append(0.0 if below else 3 * kw + 2 * g + 0.4)
        text_y.append(row_top + kh + 0.3 + text_h / 2 if below else row_top + kh / 2)
    kernel_x, prod_x = [x + kw + g for x in xs], [x + 2 * (kw + g) for x in xs]  # the same cells, next columns
    data.append(dict(squares(kernel_x, ys, numbers(trace.kernel.flatten(), digits), ax_g, SIGNED, -kmax, kmax,
                             digits, px), name="kernels"))

    # what moves, styled here (the names are what tests find in the browser); step_values says where it is at a step
    movers = [dict(line(([], []), ax_in, WINDOW), name="window_frame")]
    if trace.dilation > 1:  # the pixels a dilated kernel reads
        size = max(6, int(0.7 * top_h / max(hp, wp)))
        movers.append(dict(type="scatter", mode="markers", hoverinfo="skip", xaxis=ax_in[0], yaxis=ax_in[1],
                           marker=dict(symbol="square-open", size=size, color=WINDOW, line=dict(width=2, color=WINDOW)),
                           name="taps"))
    small = max(h_out, w_out) <= SMALL
    movers += [dict(mask(([], []), ax_out, HIDDEN if small else FAINT), name="to_come"),
               dict(line(([], []), ax_out, CELL), name="cell"),
               dict(squares(xs, ys, [], ax_g, "gray", lo, hi, digits, px), name="windows"),
               dict(squares(prod_x, ys, [], ax_g, SIGNED, -pmax, pmax, digits, px), name="products"),
               dict(words("", ax_g, width_u / 2, "middle center", 16), y=[line_u / 2], name="cell_line"),
               dict(type="scatter", x=text_x, y=text_y, mode="text", text=[], hoverinfo="skip", xaxis=ax_g[0],
                    yaxis=ax_g[1], textposition="middle right", textfont=dict(size=14, color=INK), name="sums")]

    def step_values(k: int) -> list[dict]:
        """What the movers show at step k (a frame's data: only what changes)."""
        s = trace.steps[k]
        fr, fc = trace.field(s.row, s.col)
        out = [dict(zip("xy", box(fr[0], fc[0], fr[-1], fc[-1])))]
        if trace.dilation > 1:
            out.append(dict(x=[x for _ in fr for x in fc], y=[y for y in fr for _ in fc]))
        win, win_ink, prod, prod_ink = state[k]
        return out + [dict(zip("xy", rest_mask(s.row, s.col, h_out, w_out))),
                      dict(zip("xy", box(s.row, s.col, s.row, s.col))),
                      dict(marker=dict(color=win), textfont=dict(color=win_ink)),
                      dict(marker=dict(color=prod), textfont=dict(color=prod_ink)), dict(text=texts[k][:1]),
                      dict(text=texts[k][1:])]

    moving = list(range(len(data), len(data) + len(movers)))
    for style, now in zip(movers, step_values(at)):
        data.append({**style, **now, "marker": {**style["marker"], **now["marker"]},
                     "textfont": {**style["textfont"], **now["textfont"]}} if "marker" in now else {**style, **now})
    data.append(dict(clickable(values, ax_out, max(6, int(0.8 * top_h / max(h_out, w_out))), digits), name="click"))
    fig["frames"] = [dict(name=str(k), traces=moving, data=step_values(k)) for k in range(first, last + 1)]
    controls(fig, first, last, at - first)
    return fig


def numbers(x: torch.Tensor, digits: int) -> list:
    """A tensor as nested lists, rounded for display: whole numbers as ints, no -0 (small frames)."""
    x = x.double().round(decimals=digits) + 0.0
    return _nested([int(v) if v.is_integer() else v for v in x.flatten().tolist()], x.shape)


def inks(x: torch.Tensor, colorscale: str, cmin: float, cmax: float) -> list:
    """ink() for a whole tensor at once, as nested lists like numbers()."""
    where = ((x.double() - cmin) / ((cmax - cmin) or 1.0)).clamp(0, 1).mul(100).round().long()
    dark = torch.tensor(_dark(colorscale))[where]
    return _nested(["#fff" if d else "#222" for d in dark.flatten().tolist()], x.shape)


def _nested(flat: list, shape: Sequence[int]) -> list:
    """A flat list regrouped into nested lists of a tensor's shape."""
    for size in reversed(shape[1:]):  # innermost first
        flat = [flat[i:i + size] for i in range(0, len(flat), size)]
    return flat


def channel_sum(products: Sequence[float], kw: int, total: float, digits: int) -> str:
    """A channel's products (reading order) added up, one kernel row per line: '(1 + 0 - 1)<br>+ ...<br>= -2'."""
    rows = [f"({written_sum(products[i:i + kw], digits)})" for i in range(0, len(products), kw)]
    return "<br>".join([f"  {rows[0]}", *(f"+ {r}" for r in rows[1:]), f"= <b>{number(total, digits)}</b>"])


def cell_line(step, bias: float, digits: int, template: str | None = None) -> str:
    """The output cell's value: the channels' sums and the bias added up (template: t("conv.cell_line"), looked up
    once for all frames)."""
    parts = [float(v) for v in step.channel_sums] + ([bias] if bias else [])
    sum_text = f"{written_sum(parts, digits)} = " if len(parts) > 1 else ""
    return (template or t("conv.cell_line")).format(row=step.row, col=step.col, sum=sum_text,
                                                    value=number(step.total, digits))


# ---- predict, then reveal: a seeded question, checked against core, then the worked steps (issue 17) -------------

QUIZ_SEED = "quiz_seed"  # the question's number in the URL: a whole class opens the same question


def matrix(values: Sequence[float], cols: int, digits: int = 2) -> str:
    """Values in reading order written as rows: [[1, 0, 2], [3, 1, 0]]."""
    rows = [values[i:i + cols] for i in range(0, len(values), cols)]
    return "[" + ", ".join("[" + ", ".join(fmt(v, digits) for v in r) + "]" for r in rows) + "]"


def quiz_seed() -> int:
    """The question number from the URL, with a 'new question' button that draws another one."""
    import random

    ss = st.session_state

    def draw() -> None:
        ss[QUIZ_SEED] = random.choice([n for n in range(10_000) if n != ss.get(QUIZ_SEED)])

    a, b, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
    seed = a.number_input(t("conv.quiz_seed"), 0, 2**31 - 1, step=1, key=QUIZ_SEED, bind="query-params",
                          help=t("conv.quiz_seed_help"))
    b.button(t("conv.quiz_new"), icon=":material/casino:", on_click=draw, key="quiz_new")
    return int(seed)


def quiz_question(kind: str, seed: int) -> None:
    """One 'your turn' question: the settings, a box for the guess, and after Check the verdict and the steps."""
    from core.quiz import make_question

    q = make_question(kind, seed)
    s = q.settings
    if kind == "conv_sum":
        left, right = st.columns(2)
        show(grid_figure(torch.tensor(s["image"], dtype=torch.float32), t("conv.quiz_image"), "Blues", None, 0, 240),
             left, static=True)
        show(grid_figure(torch.tensor(s["kernel"], dtype=torch.float32), t("conv.kernel_title"), digits=0,
                         height=240), right, static=True)
        st.markdown(t("conv.quiz_conv_ask", **s))
    elif kind == "output_size":
        st.markdown(t("conv.quiz_size_ask", **s))
    else:
        n = len(s["map"])
        show(grid_figure(torch.tensor(s["map"], dtype=torch.float32), t("conv.quiz_map", n=n), "Blues", None, 0,
                         60 + 34 * n), st, static=True)
        st.markdown(t(f"conv.quiz_pool_ask_{s['kind']}", **s))
    done = f"quiz_{kind}_{seed}_guess"
    with st.form(f"quiz_{kind}_{seed}", border=False):
        guess = st.number_input(t("conv.quiz_guess"), value=None, step=0.01 if q.tolerance >= 0.01 else 1.0,
                                format="%g", key=f"quiz_{kind}_{seed}_box")
        if st.form_submit_button(t("conv.quiz_check"), icon=":material/task_alt:", key=f"quiz_{kind}_{seed}_check"):
            st.session_state[done] = guess
    if done not in st.session_state:
        return
    guess = st.session_state[done]
    if guess is None:
        st.info(t("conv.quiz_empty"), icon=":material/edit:")
        return
    answer = fmt(q.answer, 4)
    if q.check(float(guess)):
        st.success(t("conv.quiz_right", answer=answer), icon=":material/check_circle:")
    else:
        st.error(t("conv.quiz_wrong", guess=fmt(float(guess), 4), answer=answer), icon=":material/cancel:")
    if q.tolerance >= 0.01:
        st.caption(t("conv.quiz_tolerance", tolerance=fmt(q.tolerance)))
    st.markdown("\n".join(f"1. {line}" for line in quiz_steps(q)))


def quiz_steps(q) -> list[str]:
    """The worked answer, one line per step of core's Question."""
    v = {step.key: step.values for step in q.steps}
    s = q.settings
    if q.kind == "conv_sum":
        k = len(s["kernel"][0])
        return [t("conv.quiz_step_window", row=s["row"], col=s["col"], values=matrix(v["window"], k)),
                t("conv.quiz_step_products", values=matrix(v["products"], k)),
                t("conv.quiz_step_sum", terms=written_sum(v["products"], 2), value=fmt(v["sum"][0])),
                t("conv.quiz_step_bias", terms=written_sum([v["sum"][0], v["bias"][0]], 2), value=fmt(v["total"][0]))]
    if q.kind == "output_size":
        return [t("conv.quiz_step_padded", size=s["size"], padding=s["padding"], value=fmt(v["padded"][0])),
                t("conv.quiz_step_reach", dilation=s["dilation"], kernel=s["kernel"], value=fmt(v["reach"][0])),
                t("conv.quiz_step_room", padded=fmt(v["padded"][0]), reach=fmt(v["reach"][0]),
                  value=fmt(v["room"][0])),
                t("conv.quiz_step_divide", room=fmt(v["room"][0]), stride=s["stride"], value=fmt(v["divide"][0])),
                t("conv.quiz_step_plus_one", divide=fmt(v["divide"][0]), value=fmt(v["plus_one"][0]))]
    k = s["kernel"]
    window = t("conv.quiz_step_pool_window", row=s["row"], col=s["col"], values=matrix(v["window"], k))
    if s["kind"] == "max":
        return [window, t("conv.quiz_step_max", value=fmt(v["max"][0]), r=int(v["winner"][0]), c=int(v["winner"][1]))]
    return [window, t("conv.quiz_step_pool_sum", terms=written_sum(v["window"], 2), value=fmt(v["sum"][0])),
            t("conv.quiz_step_mean", sum=fmt(v["sum"][0]), n=fmt(v["count"][0]), value=fmt(v["mean"][0], 4))]

# ---- the cell a link names, clicks on the output map, bands of rows for large maps ----------------------------------

def linked_cell(prefix: str, h_out: int, w_out: int, default: tuple[int, int] = (0, 0)) -> tuple[int, int]:
    """The output cell a link names (?<prefix>_row=&<prefix>_col=) or a click chose, kept inside the map."""
    ss = st.session_state
    cell = []
    for key, n, d in ((f"{prefix}_row", h_out, default[0]), (f"{prefix}_col", w_out, default[1])):
        if key not in ss:
            try:
                ss[key] = int(st.query_params.get(key, d))
            except (TypeError, ValueError):
                ss[key] = d
        cell.append(min(max(int(ss[key]), 0), n - 1))
    return cell[0], cell[1]


def go_to(prefix: str, row: int, col: int) -> None:
    """Make (row, col) the cell on show, and the link's."""
    for key, v in ((f"{prefix}_row", row), (f"{prefix}_col", col)):
        st.session_state[key] = int(v)
        st.query_params[key] = str(int(v))


def on_click(prefix: str, key: str, traces: Sequence[int]):
    """The on_select callback of a step-through: a click on an output cell (a point of `traces`) goes there."""
    def jump() -> None:
        points = getattr(getattr(st.session_state.get(key), "selection", None), "points", None) or []
        for p in points:
            if p.get("curve_number") in traces:
                go_to(prefix, int(round(float(p["y"]))), int(round(float(p["x"]))))
                st.session_state[f"{prefix}_clicks"] = st.session_state.get(f"{prefix}_clicks", 0) + 1
                return
    return jump


def band_choice(prefix: str, h_out: int, w_out: int, row: int, limit: int = MAX_FRAMES) -> None:
    """For maps with more steps than one figure holds (`limit`): which band of rows the frames step through."""
    starts = bands(h_out, w_out, limit)
    if len(starts) < 2:
        return
    size = starts[1] - starts[0]
    key = f"{prefix}_band"
    st.session_state[key] = (row // size) * size  # follows links and clicks (set before the widget is drawn)
    st.select_slider(t("conv.band"), starts, key=key, on_change=lambda: go_to(prefix, st.session_state[key], 0),
                     format_func=lambda r: t("conv.band_rows", a=r, b=min(r + size, h_out) - 1),
                     help=t("conv.band_help", n=limit))


def step_through(fig: dict, prefix: str, click_traces: Sequence[int]) -> None:
    """Draw a step-through figure; a click on one of its output maps moves it to that cell (a rerun)."""
    key = f"{prefix}_steps_{st.session_state.get(f'{prefix}_clicks', 0)}"
    show(fig, key=key, on_select=on_click(prefix, key, click_traces), selection_mode="points",
         config={"displayModeBar": False})
