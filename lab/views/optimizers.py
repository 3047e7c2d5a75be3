"""Drawing of the optimizers page (shell): the contour map with the racers' paths, loss curves on a log axis, the
optimizer's own state and the course's formulas with step 1's numbers, and the mini-batch noise panel."""
from __future__ import annotations

import math

import plotly.graph_objects as go
import streamlit as st
import torch

from core.minibatch_noise import BatchPath
from core.optimizers import first_step
from core.optim_paths import SURFACES, OptimPath
from lab import cache
from lab.ui import t

FLOOR = 1e-16  # losses below this are 0 to float64 rounding; a log axis cannot show 0
COLORS = ("#e45756", "#4c78a8", "#54a24b", "#f58518")


def contour(xs: torch.Tensor, ys: torch.Tensor, z: torch.Tensor, height: int = 520) -> go.Figure:
    """A log-spaced contour map of a loss surface (the valleys stay visible)."""
    fig = go.Figure(go.Contour(x=xs.tolist(), y=ys.tolist(), z=torch.log10(z + 1e-3).tolist(), ncontours=30,
                               colorscale="Greys", reversescale=True, showscale=False, hoverinfo="skip",
                               contours=dict(coloring="heatmap", showlines=True), line=dict(width=0.5)))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0),
                      xaxis=dict(range=[float(xs[0]), float(xs[-1])]), yaxis=dict(range=[float(ys[0]), float(ys[-1])]))
    return fig


def add_path(fig: go.Figure, pos: torch.Tensor, at: int, name: str, color: str, dash: str | None = None) -> None:
    """Draw a path up to step `at`, with its current point as a big dot."""
    upto = pos[: at + 1].tolist()
    fig.add_trace(go.Scatter(x=[p[0] for p in upto], y=[p[1] for p in upto], mode="lines+markers", name=name,
                             line=dict(color=color, width=2, dash=dash), marker=dict(size=4)))
    fig.add_trace(go.Scatter(x=[upto[-1][0]], y=[upto[-1][1]], mode="markers", showlegend=False,
                             marker=dict(size=13, color=color, line=dict(color="white", width=2)), hoverinfo="skip"))


def surface_figure(surface: str, paths: list[OptimPath], names: list[str], colors: list[str], at: int) -> go.Figure:
    """The contour map with every optimizer's path so far, and the minima as stars."""
    fig = contour(*cache.surface_on_grid(surface))
    mins = SURFACES[surface].minima
    fig.add_trace(go.Scatter(x=[m[0] for m in mins], y=[m[1] for m in mins], mode="markers", name=t("optim.minimum"),
                             marker=dict(symbol="star", size=14, color="gold", line=dict(color="black", width=1))))
    for path, name, color in zip(paths, names, colors):
        add_path(fig, path.positions, min(at, path.steps), name, color)
    return fig


def loss_figure(curves: list[tuple[str, torch.Tensor, str, str | None]], at: int, xlabel: str, ylabel: str,
                height: int = 320) -> go.Figure:
    """Loss against step on a log axis (name, losses, colour, dash or "dots"), with a marker line at the step."""
    fig = go.Figure()
    finite = [c[1][torch.isfinite(c[1])].clamp_min(FLOOR) for c in curves if torch.isfinite(c[1]).any()]
    lo = min((float(v.min()) for v in finite), default=1.0)
    hi = max((float(v.max()) for v in finite), default=10.0)
    decades = math.log10(hi / lo) if hi > lo else 1.0
    for name, loss, color, dash in curves:
        y = loss.clamp_min(FLOOR).tolist()
        if dash == "dots":
            fig.add_trace(go.Scatter(x=list(range(1, len(y) + 1)), y=y, mode="markers", name=name, opacity=0.45,
                                     marker=dict(color=color, size=4)))
        else:
            fig.add_trace(go.Scatter(y=y, mode="lines", name=name, line=dict(color=color, dash=dash, width=2)))
    fig.add_vline(x=at, line=dict(color="grey", dash="dot"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=xlabel, yaxis_title=ylabel,
                      yaxis=dict(type="log", dtick=max(1, math.ceil(decades / 7)), exponentformat="power"),
                      legend=dict(orientation="h", yanchor="top", y=-0.25, x=0))
    return fig


def noise_panel(small: BatchPath, full: BatchPath, grid: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> None:
    """The mini-batch path beside the full-batch one on the loss map, the loss curves, and what each run cost."""
    full_name, small_name = t("optim.full_batch", n=full.n_data), t("optim.batch_of", b=small.batch_size)
    for path, name in ((small, small_name), (full, full_name)):
        if path.diverged_at is not None:
            st.warning(t("optim.diverged_non_finite", name=name, step=path.diverged_at), icon=":material/warning:")
    fig = contour(*grid, height=480)
    add_path(fig, full.positions, full.steps, full_name, "#333333", "dash")
    add_path(fig, small.positions, small.steps, small_name, COLORS[0])
    fig.update_layout(xaxis_title=t("optim.w_ink"), yaxis_title=t("optim.w_width"))
    left, right = st.columns([3, 2])
    left.plotly_chart(fig, width="stretch", key="opt_noise_fig")
    curves = [(full_name, full.full_losses, "#333333", "dash"), (small_name, small.full_losses, COLORS[0], None),
              (t("optim.batch_seen", b=small.batch_size), small.batch_losses, COLORS[0], "dots")]
    right.plotly_chart(loss_figure(curves, small.steps, t("optim.step"), t("optim.loss"), height=400),
                       width="stretch", key="opt_noise_loss")
    right.caption(t("optim.noise_cost", b=small.batch_size, steps=small.steps, seen=f"{small.examples_seen:,}",
                    epochs=f"{small.epochs:.2f}", full_seen=f"{full.examples_seen:,}", full_epochs=f"{full.epochs:.0f}",
                    loss=f"{float(small.full_losses[-1]):.4f}", full_loss=f"{float(full.full_losses[-1]):.4f}"))


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


def fixed_pair(v: torch.Tensor) -> str:
    """(x, y) with 4 decimals, never "-0.0000"."""
    return "(" + ", ".join(f"{c:.4f}".replace("-0.0000", "0.0000") for c in v.tolist()) + ")"
