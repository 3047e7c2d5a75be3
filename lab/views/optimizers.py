"""Drawing of the optimizers page (shell): the race as one figure whose step-through runs in the browser (the contour
map with the paths, the loss curves on a log axis and the numbers at the step, moved by Plotly frames and a slider),
the optimizer's own state with the course's formulas, and the mini-batch noise panel. Figures are plain dicts."""
from __future__ import annotations

import base64
import io
import math

import streamlit as st
import torch
from PIL import Image

from core.minibatch_noise import BatchPath
from core.optim_paths import SURFACES, OptimPath, simplify, surface_grid
from core.optimizers import first_step
from lab.figures import browser_numbers
from lab.ui import t

FLOOR = 1e-16  # losses below this are 0 to float64 rounding; a log axis cannot show 0
COLORS = ("#e45756", "#4c78a8", "#54a24b", "#f58518")
FRAMES = 100  # frames of the step-through: Play shows the whole race in FRAMES x FRAME_MS
FRAME_MS = 40  # a frame every 40 ms at most: 10-25 frames a second, as fast as the browser redraws
RECENT = 10  # the last steps before the current one are dots: their spacing is the step size
TOLERANCE = 1e-3  # a trail point is dropped when the line passes within 0.1% of the map's size of it (under a pixel)
MAX_TRAIL = 150  # at most this many simplified points per trail (see _kept)
WIDTHS = (6.0, 4.0, 2.0)  # racer 1 widest and drawn first, later ones a little see-through: a racer on another's
#                           track still shows (in the narrow valley SGD's path was hidden under Adam's start)
HEADS = (19, 14, 9)  # and the current points as rings inside one another (three racers at one start stay visible)
IMAGE_POINTS = 360  # the map's picture: 360 x 360 values of the loss
MAP = (0.0, 0.5)  # the map's share of the width (its colour bar just right of it)
RIGHT = (0.7, 1.0)  # the loss curves and the numbers at the step


def _sig(values, digits: int = 5) -> list[float]:
    """Numbers to `digits` significant digits (losses span many decades)."""
    return [float(f"{v:.{digits}g}") for v in (values.tolist() if isinstance(values, torch.Tensor) else values)]


def contour_trace(xs: torch.Tensor, ys: torch.Tensor, z: torch.Tensor, colorbar: dict) -> dict:
    """A log-spaced contour map of a loss surface (the valleys stay visible), with its colour scale."""
    return {"type": "contour", "x": browser_numbers(xs, 4), "y": browser_numbers(ys, 4), "z": [browser_numbers(row, 3) for row in torch.log10(z + 1e-3).tolist()],
            "ncontours": 30, "colorscale": "Greys", "reversescale": True, "hoverinfo": "skip",
            "contours": {"coloring": "heatmap", "showlines": True}, "line": {"width": 0.5}, "showscale": True,
            "colorbar": {"thickness": 10, "title": {"text": t("optim.colour_axis"), "side": "right"}, **colorbar}}


def surface_image(xs: torch.Tensor, ys: torch.Tensor, z: torch.Tensor, levels: int = 30) -> tuple[dict, dict]:
    """The race map's background, as a picture: log10 of the loss in `levels` bands of grey (light is low), a thin
    dark line where the band changes; and an invisible trace that carries its colour bar.

    A contour trace cannot stay under an animation: Plotly's frames redraw only scatter traces and drop the layers of
    every other trace type from the plot, so the map vanished at the first frame. A layout image is never redrawn."""
    v = torch.log10(z + 1e-3).flip(0)  # (H, W), top row = largest y
    lo, hi = float(v.min()), float(v.max())
    band = ((v - lo) / max(hi - lo, 1e-12) * levels).floor().clamp(0, levels - 1)  # (H, W)
    grey = 250 - band * (200 / (levels - 1))
    edge = torch.zeros_like(band, dtype=torch.bool)
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    grey[edge] = (grey[edge] - 60).clamp_min(0)
    png = io.BytesIO()
    Image.fromarray(grey.round().to(torch.uint8).numpy(), mode="L").save(png, format="PNG")
    x0, x1, y0, y1 = float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])
    image = {"source": "data:image/png;base64," + base64.b64encode(png.getvalue()).decode(), "xref": "x", "yref": "y",
             "x": x0, "y": y1, "sizex": x1 - x0, "sizey": y1 - y0, "sizing": "stretch", "layer": "below",
             "xanchor": "left", "yanchor": "top"}
    scale = {"type": "scatter", "x": [None, None], "y": [None, None], "mode": "markers", "showlegend": False,
             "hoverinfo": "skip", "marker": {"color": [lo, hi], "cmin": lo, "cmax": hi, "showscale": True,
                                             "colorscale": [[0, "rgb(250,250,250)"], [1, "rgb(50,50,50)"]],
                                             "colorbar": {"thickness": 10, "x": MAP[1] + 0.01, "xanchor": "left",
                                                          "title": {"text": t("optim.colour_axis"), "side": "right"}}}}
    return image, scale


def frame_steps(steps: int, at: int, count: int = FRAMES) -> list[int]:
    """The steps the step-through stops at: about `count` evenly spaced from 0 to `steps`, and `at` itself."""
    stride = max(1, math.ceil(steps / count))
    return sorted({*range(0, steps + 1, stride), steps, min(max(at, 0), steps)})


def _kept(path: OptimPath, span: tuple[float, float]) -> list[int]:
    """The steps a trail keeps: those simplify() needs at TOLERANCE, or, for a path that zig-zags for thousands of
    steps (SGD just under 2/curvature), at a coarser tolerance until at most MAX_TRAIL remain: the zig-zag is then a
    solid band on screen either way, and the figure stays under about 600 kB instead of 2 MB."""
    tolerance = TOLERANCE
    kept = simplify(path.positions, tolerance, span)
    while len(kept) > MAX_TRAIL:
        tolerance *= 2
        kept = simplify(path.positions, tolerance, span)
    return kept.tolist()


def _trail(xs: list[float], ys: list[float], kept: list[int], s: int) -> dict:
    """The path up to step s: the simplified points before the last RECENT steps, then every point after them."""
    cut = max(0, s - RECENT)
    idx = [k for k in kept if k < cut] + list(range(cut, s + 1))
    return {"x": [xs[k] for k in idx], "y": [ys[k] for k in idx]}


def _readout(names: list[str], paths: list[OptimPath], s: int) -> list[str]:
    """The numbers at step s, one line per racer (a racer whose run ended earlier says where)."""
    lines = []
    for name, p in zip(names, paths):
        k = min(s, p.steps)
        x, y = (f"{c:.4f}".replace("-0.0000", "0.0000") for c in p.positions[k].tolist())
        text = t("optim.readout", n=name.split(".")[0], x=x, y=y, loss=f"{float(p.losses[k]):.4g}")
        lines.append(text + (t("optim.readout_stopped", step=k) if k < s else ""))
    return lines


def race_figure(surface: str, start: tuple[float, float], paths: list[OptimPath], names: list[str], at: int) -> dict:
    """The race in one figure: contour map with every path up to a step (left), loss curves with a line at the step
    (top right), the numbers at the step (bottom right). A Plotly slider and Play move the step in the browser: each
    frame replaces only the moving traces, the contour grid is sent once."""
    surf, n_run = SURFACES[surface], len(paths)
    steps = max((p.steps for p in paths), default=0)
    at = min(max(at, 0), steps)
    span = (surf.x_range[1] - surf.x_range[0], surf.y_range[1] - surf.y_range[0])
    kept = [_kept(p, span) for p in paths]
    xy = [(browser_numbers(p.positions[:, 0], 4), browser_numbers(p.positions[:, 1], 4)) for p in paths]  # rounded once, sliced per frame
    heads = [p.positions.tolist() for p in paths]
    losses = [_sig(p.losses.clamp_min(FLOOR)) for p in paths]
    lrs = [p.hyperparams["lr"] for p in paths]

    image, scale = surface_image(*surface_grid(surface, IMAGE_POINTS))
    data = [scale,
            {"type": "scatter", "x": [m[0] for m in surf.minima], "y": [m[1] for m in surf.minima], "mode": "markers",
             "name": t("optim.minimum"), "marker": {"symbol": "star", "size": 14, "color": "gold",
                                                    "line": {"color": "black", "width": 1}}},
            {"type": "scatter", "x": [start[0]], "y": [start[1]], "mode": "markers", "name": t("optim.start"),
             "marker": {"symbol": "x-thin", "size": 26, "line": {"color": "black", "width": 2}}, "hoverinfo": "skip"}]

    def moving(s: int) -> list[dict]:
        """Every trace that changes with the step, in trace order: trails, recent dots, heads, then the loss panel."""
        ks = [min(s, p.steps) for p in paths]
        trails, recent, now = [], [], []
        for (xs, ys), kp, full, k in zip(xy, kept, heads, ks):
            trails.append(_trail(xs, ys, kp, k))
            lo = max(0, k - RECENT)
            recent.append({"x": xs[lo:k], "y": ys[lo:k]})
            now.append({"x": [round(full[k][0], 6)], "y": [round(full[k][1], 6)]})
        dots = {"x": ks, "y": [loss[k] for loss, k in zip(losses, ks)]}
        return trails + recent + now + [{"x": [s, s]}, dots, {"text": _readout(names, paths, s)}]

    now = moving(at)
    for r, (name, color) in enumerate(zip(names, COLORS)):  # trails: racer 1 first and widest
        data.append({"type": "scatter", "mode": "lines", "name": name, "legendgroup": str(r), **now[r],
                     "line": {"color": color, "width": WIDTHS[r % 3]}, "opacity": 1.0 if r == 0 else 0.8,
                     "hoverinfo": "skip"})
    for r, color in enumerate(COLORS[:n_run]):
        data.append({"type": "scatter", "mode": "markers", "showlegend": False, "legendgroup": str(r),
                     **now[n_run + r], "marker": {"color": color, "size": 5}, "hoverinfo": "skip"})
    for r, (name, color) in enumerate(zip(names, COLORS)):
        data.append({"type": "scatter", "mode": "markers", "showlegend": False, "legendgroup": str(r),
                     **now[2 * n_run + r], "name": name, "hovertemplate": "(%{x:.4f}, %{y:.4f})",
                     "marker": {"color": color, "size": HEADS[r % 3], "line": {"color": "white", "width": 2}}})
    moving_from = 3  # index of the first moving trace
    lo, hi = (min(map(min, losses)), max(map(max, losses))) if paths else (FLOOR, 1.0)
    for r, (p, name, color) in enumerate(zip(paths, names, COLORS)):  # static loss curves
        data.append({"type": "scatter", "mode": "lines", "xaxis": "x2", "yaxis": "y2", "name": name,
                     "legendgroup": str(r), "showlegend": False, "y": losses[r],
                     "line": {"color": color, "width": WIDTHS[r % 3] / 2 + 1}})
    data.append({"type": "scatter", "mode": "lines", "xaxis": "x2", "yaxis": "y2", "showlegend": False,
                 "x": now[-3]["x"], "y": [lo, hi], "line": {"color": "grey", "dash": "dot"}, "hoverinfo": "skip"})
    data.append({"type": "scatter", "mode": "markers", "xaxis": "x2", "yaxis": "y2", "showlegend": False, **now[-2],
                 "marker": {"color": list(COLORS[:n_run]), "size": 9, "line": {"color": "white", "width": 1}},
                 "hoverinfo": "skip"})
    data.append({"type": "scatter", "mode": "text", "xaxis": "x3", "yaxis": "y3", "showlegend": False,
                 "x": [0.0] * n_run, "y": list(range(n_run - 1, -1, -1)), "text": now[-1]["text"],
                 "textposition": "middle right", "textfont": {"color": list(COLORS[:n_run]), "size": 12},
                 "hoverinfo": "skip"})
    moving_idx = list(range(moving_from, moving_from + 3 * n_run)) + [len(data) - 3, len(data) - 2, len(data) - 1]

    shown = frame_steps(steps, at)
    frames = [{"name": str(s), "data": moving(s), "traces": moving_idx} for s in shown]
    still = {"frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}, "mode": "immediate"}
    play = {"frame": {"duration": FRAME_MS, "redraw": False}, "transition": {"duration": 0}, "mode": "immediate"}
    decades = math.log10(hi / lo) if hi > lo else 1.0
    same = len(set(lrs)) == 1
    title = t("optim.chart_same_lr", lr=f"{lrs[0]:g}") if same and lrs else \
        t("optim.chart_lrs", lrs=" · ".join(f"η{'₁₂₃₄'[i]} = {lr:g}" for i, lr in enumerate(lrs)))
    layout = {
        "images": [image], "height": 540, "margin": {"l": 10, "r": 10, "t": 80, "b": 10},
        "title": {"text": title, "x": 0, "xanchor": "left", "y": 0.985, "font": {"size": 15}},
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        "xaxis": {"domain": list(MAP), "range": list(surf.x_range), "showgrid": False, "zeroline": False,
                  "title": {"text": t("optim.axis_x")}},
        "yaxis": {"domain": [0.0, 1.0], "range": list(surf.y_range), "showgrid": False, "zeroline": False,
                  "title": {"text": t("optim.axis_y")}},
        "xaxis2": {"domain": list(RIGHT), "anchor": "y2", "range": [0, max(steps, 1)],
                   "title": {"text": t("optim.step_axis")}},
        "yaxis2": {"domain": [0.5, 1.0], "anchor": "x2", "type": "log", "exponentformat": "power",
                   "dtick": max(1, math.ceil(decades / 6)), "title": {"text": t("optim.loss_axis")}},
        "xaxis3": {"domain": list(RIGHT), "anchor": "y3", "range": [0, 1], "visible": False, "fixedrange": True},
        "yaxis3": {"domain": [0.0, 0.33], "anchor": "x3", "range": [-0.6, n_run - 0.4], "visible": False,
                   "fixedrange": True},
        "updatemenus": [{"type": "buttons", "direction": "left", "showactive": False, "x": 0, "xanchor": "left",
                         "y": 0, "yanchor": "top", "pad": {"t": 56, "r": 10},
                         "buttons": [{"label": "▶ " + t("optim.play"), "method": "animate",
                                      "args": [None, {**play, "fromcurrent": True}]},
                                     {"label": t("optim.pause"), "method": "animate", "args": [[None], still]},
                                     {"label": t("optim.replay"), "method": "animate",
                                      "args": [None, {**play, "fromcurrent": False}]}]}],
        "sliders": [{"active": shown.index(at), "x": 0.3, "len": 0.7, "y": 0, "yanchor": "top",
                     "pad": {"t": 40, "b": 0}, "ticklen": 3, "minorticklen": 0, "font": {"color": "rgba(0,0,0,0)"},
                     "currentvalue": {"xanchor": "right",
                                      "font": {"size": 14, "color": "#31333f"}},
                     "steps": [{"label": t("optim.slider_value", step=s), "method": "animate", "args": [[str(s)], still]} for s in shown]}],
    }
    return {"data": data, "layout": layout, "frames": frames}


def loss_figure(curves: list[tuple[str, torch.Tensor, str, str | None]], at: int, xlabel: str, ylabel: str,
                height: int = 320) -> dict:
    """Loss against step on a log axis (name, losses, colour, dash or "dots"), with a marker line at the step."""
    finite = [c[1][torch.isfinite(c[1])].clamp_min(FLOOR) for c in curves if torch.isfinite(c[1]).any()]
    lo = min((float(v.min()) for v in finite), default=1.0)
    hi = max((float(v.max()) for v in finite), default=10.0)
    decades = math.log10(hi / lo) if hi > lo else 1.0
    data = []
    for name, loss, color, dash in curves:
        y = _sig(loss.clamp_min(FLOOR))
        if dash == "dots":
            data.append({"type": "scatter", "x": list(range(1, len(y) + 1)), "y": y, "mode": "markers", "name": name,
                         "opacity": 0.45, "marker": {"color": color, "size": 4}})
        else:
            data.append({"type": "scatter", "y": y, "mode": "lines", "name": name,
                         "line": {"color": color, "dash": dash, "width": 2}})
    return {"data": data, "layout": {
        "height": height, "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "shapes": [{"type": "line", "xref": "x", "yref": "paper", "x0": at, "x1": at, "y0": 0, "y1": 1,
                    "line": {"color": "grey", "dash": "dot"}}],
        "xaxis": {"title": {"text": xlabel}},
        "yaxis": {"type": "log", "dtick": max(1, math.ceil(decades / 7)), "exponentformat": "power",
                  "title": {"text": ylabel}},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0}}}


def noise_map(small: BatchPath, full: BatchPath, grid: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> dict:
    """The mini-batch path beside the full-batch one on the map of the loss over every digit."""
    full_name, small_name = t("optim.full_batch", n=full.n_data), t("optim.batch_of", b=small.batch_size)
    xs, ys, _ = grid
    data = [contour_trace(*grid, colorbar={})]
    for path, name, color, dash in ((full, full_name, "#333333", "dash"), (small, small_name, COLORS[0], None)):
        pos = path.positions
        data.append({"type": "scatter", "x": browser_numbers(pos[:, 0], 4), "y": browser_numbers(pos[:, 1], 4), "mode": "lines+markers", "name": name,
                     "line": {"color": color, "width": 2, "dash": dash}, "marker": {"size": 4}})
        data.append({"type": "scatter", "x": browser_numbers(pos[-1:, 0], 4), "y": browser_numbers(pos[-1:, 1], 4), "mode": "markers",
                     "showlegend": False, "hoverinfo": "skip",
                     "marker": {"size": 13, "color": color, "line": {"color": "white", "width": 2}}})
    return {"data": data, "layout": {
        "height": 480, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0},
        "xaxis": {"range": [float(xs[0]), float(xs[-1])], "title": {"text": t("optim.w_ink")}},
        "yaxis": {"range": [float(ys[0]), float(ys[-1])], "title": {"text": t("optim.w_width")}}}}


def noise_losses(small: BatchPath, full: BatchPath) -> dict:
    """The loss on every digit along both runs, and the loss of each batch the small-batch run saw."""
    full_name, small_name = t("optim.full_batch", n=full.n_data), t("optim.batch_of", b=small.batch_size)
    curves = [(full_name, full.full_losses, "#333333", "dash"), (small_name, small.full_losses, COLORS[0], None),
              (t("optim.batch_seen", b=small.batch_size), small.batch_losses, COLORS[0], "dots")]
    return loss_figure(curves, small.steps, t("optim.step_axis"), t("optim.loss_axis"), height=400)


def noise_warnings(small: BatchPath, full: BatchPath) -> None:
    """A warning for a run whose weights became infinite."""
    for path, name in ((small, t("optim.batch_of", b=small.batch_size)), (full, t("optim.full_batch", n=full.n_data))):
        if path.diverged_at is not None:
            st.warning(t("optim.diverged_non_finite", name=name, step=path.diverged_at), icon=":material/warning:")


def noise_caption(small: BatchPath, full: BatchPath) -> str:
    """What each run cost and where it ended."""
    return t("optim.noise_cost", b=small.batch_size, steps=small.steps, seen=f"{small.examples_seen:,}",
             epochs=f"{small.epochs:.2f}", full_seen=f"{full.examples_seen:,}", full_epochs=f"{full.epochs:.0f}",
             loss=f"{float(small.full_losses[-1]):.4f}", full_loss=f"{float(full.full_losses[-1]):.4f}")


def inside_panel(path: OptimPath, name: str, first: int = 5) -> None:
    """The optimizer's own state for the first steps, and the course's formulas with step 1's numbers put in."""
    n = min(first, path.steps)
    if n == 0:
        return
    rows = []
    for k in range(n):
        row = {t("optim.col_step"): k + 1, "g": _pair(path.grads[k])}
        for key in ("momentum_buffer", "exp_avg", "exp_avg_sq", "m_hat", "v_hat", "square_avg", "sum"):
            if key in path.state:
                row[t(f"optim.state_{key}")] = _pair(path.state[key][k])
        for key in ("bias_correction1", "bias_correction2"):
            if key in path.state:
                row[t(f"optim.state_{key}")] = f"{float(path.state[key][k]):.4g}"
        row["Δθ"] = _pair(path.updates[k])
        row["θ"] = _pair(path.positions[k + 1])
        rows.append(row)
    st.dataframe(rows, hide_index=True, width="stretch")
    for line in formula_lines(path):
        st.latex(line)
    st.caption(t("optim.inside_note", name=name))
def formula_lines(path: OptimPath) -> list[str]:
    """The course's formulas for step 1 of x with core's numbers put in; the last line ends in torch's own θ_x."""
    fs = first_step(path, 0)
    if fs is None:
        return []
    hp, x0, g, lam, lr = path.hyperparams, fs.theta0, fs.grad, fs.decay, path.hyperparams["lr"]
    lines, gs = [], f"{_tex(fs.grad_used, 4)}"
    if lam and not fs.decoupled:
        lines.append(rf"g' = g + \lambda\theta_x = {_tex(g, 4)} + {_tex(lam, 6)}\cdot({_tex(x0, 4)}) = {gs}")
    tm, end = fs.terms, rf" = {_tex(fs.torch_theta1, 6)}"
    if "exp_avg" in tm:
        b1, b2, eps = hp["beta1"], hp["beta2"], hp["eps"]
        lines.append(rf"m_1 = {_tex(b1, 6)}\cdot 0 + (1-{_tex(b1, 6)})\cdot({gs}) = {_tex(tm['exp_avg'], 4)}")
        lines.append(rf"v_1 = {_tex(b2, 6)}\cdot 0 + (1-{_tex(b2, 6)})\cdot({gs})^2 = {_tex(tm['exp_avg_sq'], 4)}")
        lines.append(rf"\hat m_1 = \frac{{{_tex(tm['exp_avg'], 4)}}}{{1-{_tex(b1, 6)}^1}} = {_tex(tm['m_hat'], 4)},"
                     rf"\quad \hat v_1 = \frac{{{_tex(tm['exp_avg_sq'], 4)}}}{{1-{_tex(b2, 6)}^1}}"
                     rf" = {_tex(tm['v_hat'], 4)}")
        start = f"{_tex(x0, 4)}"
        if fs.decoupled and lam:
            lines.append(rf"\theta_x \leftarrow \theta_x(1-\eta\lambda) = {_tex(x0, 4)}"
                         rf"\cdot(1-{_tex(lr, 6)}\cdot{_tex(lam, 6)}) = {_tex(fs.base, 6)}")
            start = f"{_tex(fs.base, 6)}"
        lines.append(rf"\theta_x \leftarrow {start} - {_tex(lr, 6)}\cdot\frac{{{_tex(tm['m_hat'], 4)}}}"
                     rf"{{\sqrt{{{_tex(tm['v_hat'], 4)}}}+{_tex(eps, 6)}}}{end}")
    elif "square_avg" in tm or "sum" in tm:
        key, s = ("square_avg", rf"s_1 = (1-{_tex(hp['alpha'], 6)})\cdot({gs})^2") if "square_avg" in tm \
            else ("sum", rf"G_1 = 0 + ({gs})^2")
        lines.append(rf"{s} = {_tex(tm[key], 4)}")
        lines.append(rf"\theta_x \leftarrow {_tex(x0, 4)} - {_tex(lr, 6)}\cdot\frac{{{gs}}}"
                     rf"{{\sqrt{{{_tex(tm[key], 4)}}}+{_tex(hp['eps'], 6)}}}{end}")
    elif "momentum_buffer" in tm:
        mu, b = hp["momentum"], f"{_tex(tm['momentum_buffer'], 4)}"
        line = rf"b_1 = g_1 = {b}"
        if "momentum_buffer_2" in tm:
            line += (rf",\quad b_2 = {_tex(mu, 6)}\cdot({b}) + ({_tex(fs.grad_used_2, 4)})"
                     rf" = {_tex(tm['momentum_buffer_2'], 4)}")
        lines.append(line)
        move = rf"({gs} + {_tex(mu, 6)}\cdot({b}))" if path.optimizer == "nesterov" else f"({b})"
        lines.append(rf"\theta_x \leftarrow {_tex(x0, 4)} - {_tex(lr, 6)}\cdot{move}{end}")
    else:
        lines.append(rf"\theta_x \leftarrow \theta_x - \eta\, g = {_tex(x0, 4)} - {_tex(lr, 6)}\cdot({gs}){end}")
    return lines


def _tex(x: float, digits: int = 4) -> str:
    """A number for LaTeX with `digits` significant digits: 2.402e+04 becomes 2.402\\times10^{4}."""
    text = f"{x:.{digits}g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return rf"{mantissa}\times10^{{{int(exponent)}}}"


def _pair(v: torch.Tensor) -> str:
    """(x, y) with 4 significant digits."""
    return f"({v[0].item():.4g}, {v[1].item():.4g})"
