"""Optimizer page helpers: cached runs keyed on plain values, presets and the Plotly figures."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
import torch

from core.minibatch_noise import BatchPath, digit_features, loss_grid, minibatch_path
from core.optim_paths import SURFACES, OptimPath, race, surface_grid
from lab import cache
from lab.ui import t

COLORS = ("#e45756", "#4c78a8", "#54a24b", "#f58518")
# preset -> (surface, start or None for the surface's own, steps, racers [(optimizer, lr)])
PRESETS: dict[str, tuple[str, tuple[float, float] | None, int, tuple[tuple[str, float], ...]]] = {
    "valley": ("rosenbrock", (-1.5, 2.0), 500, (("sgd", 1e-3), ("momentum", 1e-3), ("adam", 0.05))),
    "bowl": ("bowl", None, 100, (("sgd", 0.45), ("momentum", 0.1), ("adam", 0.3))),
    "too_big": ("bowl", None, 100, (("sgd", 0.1), ("sgd", 0.45), ("sgd", 0.55))),  # stable only for lr < 2/4
    "saddle": ("saddle", None, 300, (("sgd", 0.01), ("momentum", 0.01), ("adam", 0.05))),
    "himmelblau": ("himmelblau", None, 300, (("sgd", 0.005), ("nesterov", 0.002), ("rmsprop", 0.05))),
}
PAIRS = {"1-7": (1, 7), "4-9": (4, 9), "0-6": (0, 6), "3-8": (3, 8), "0-1": (0, 1)}  # 0-1 is almost separable
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
NOISE_STEPS = 150
EXTRA = {"momentum": "momentum", "nesterov": "momentum", "adam": "beta1", "adamw": "beta1", "rmsprop": "alpha"}


@st.cache_data(show_spinner=False, max_entries=200)
def cached_race(surface: str, runs: tuple[tuple[str, tuple[tuple[str, float], ...]], ...],
                start: tuple[float, float], steps: int) -> list[OptimPath]:
    """race() keyed on plain values: moving the step slider never recomputes a path."""
    return race(surface, [(name, dict(hp)) for name, hp in runs], start, steps)


@st.cache_data(show_spinner=False)
def cached_grid(surface: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The surface on its plotting grid."""
    return surface_grid(surface, 90)


@st.cache_data(show_spinner=False, max_entries=100)
def cached_batches(classes: tuple[int, int], batch_size: int, lr: float, steps: int, seed: int,
                   optimizer: str) -> tuple[BatchPath, BatchPath, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The chosen mini-batch run, the full-batch run beside it, and the full-data loss grid under both."""
    data = cache.digits()
    feats, targets = digit_features(data.train_images, data.train_labels, classes)
    small = minibatch_path(feats, targets, min(batch_size, len(targets)), steps, seed, optimizer, lr=lr)
    full = minibatch_path(feats, targets, len(targets), steps, seed, optimizer, lr=lr)
    return small, full, loss_grid(feats, targets, [small, full])


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
    fig = contour(*cached_grid(surface))
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
    for name, loss, color, dash in curves:
        y = loss.clamp_min(1e-30).tolist()
        if dash == "dots":
            fig.add_trace(go.Scatter(x=list(range(1, len(y) + 1)), y=y, mode="markers", name=name, opacity=0.45,
                                     marker=dict(color=color, size=4)))
        else:
            fig.add_trace(go.Scatter(y=y, mode="lines", name=name, line=dict(color=color, dash=dash, width=2)))
    fig.add_vline(x=at, line=dict(color="grey", dash="dot"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=xlabel, yaxis_title=ylabel,
                      yaxis=dict(type="log", dtick=1, exponentformat="power"),
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
                row[t(f"optim.state_{key}")] = f"{float(path.state[key][k]):.6f}"
        row["Δθ"] = _pair(path.updates[k])
        row["θ"] = _pair(path.positions[k + 1])
        rows.append(row)
    st.dataframe(rows, hide_index=True, width="stretch")
    hp, g, d = path.hyperparams, path.grads[0, 0].item(), path.updates[0, 0].item()
    x0 = path.positions[0, 0].item()
    if "exp_avg" in path.state:
        m, v = path.state["exp_avg"][0, 0].item(), path.state["exp_avg_sq"][0, 0].item()
        mh, vh = path.state["m_hat"][0, 0].item(), path.state["v_hat"][0, 0].item()
        b1, b2, lr, eps = hp["beta1"], hp["beta2"], hp["lr"], hp["eps"]
        st.latex(rf"m_1 = {b1:g}\cdot 0 + (1-{b1:g})\cdot({g:.4g}) = {m:.4g}")
        st.latex(rf"v_1 = {b2:g}\cdot 0 + (1-{b2:g})\cdot({g:.4g})^2 = {v:.4g}")
        st.latex(rf"\hat m_1 = \frac{{{m:.4g}}}{{1-{b1:g}^1}} = {mh:.4g},\quad "
                 rf"\hat v_1 = \frac{{{v:.4g}}}{{1-{b2:g}^1}} = {vh:.4g}")
        st.latex(rf"\theta_x \leftarrow {x0:.4g} - {lr:g}\cdot\frac{{{mh:.4g}}}{{\sqrt{{{vh:.4g}}}+{eps:g}}}"
                 rf" = {x0 + d:.4g}")
    elif "momentum_buffer" in path.state and path.steps > 1:
        b1_, b2_, g2 = path.state["momentum_buffer"][0, 0].item(), path.state["momentum_buffer"][1, 0].item(), \
            path.grads[1, 0].item()
        st.latex(rf"b_1 = g_1 = {b1_:.4g},\quad b_2 = {hp['momentum']:g}\cdot({b1_:.4g}) + ({g2:.4g}) = {b2_:.4g}")
        st.latex(rf"\theta_x \leftarrow {x0:.4g} - {hp['lr']:g}\cdot({b1_:.4g}) = {x0 + d:.4g}"
                 + (r"\ \text{(Nesterov: } g + \mu b)" if path.optimizer == "nesterov" else ""))
    elif path.optimizer == "sgd" and hp.get("momentum", 0) == 0:
        st.latex(rf"\theta_x \leftarrow \theta_x - \eta\, g = {x0:.4g} - {hp['lr']:g}\cdot({g:.4g}) = {x0 + d:.4g}")
    st.caption(t("optim.inside_note", name=name))


def _pair(v: torch.Tensor) -> str:
    """(x, y) with 4 significant digits."""
    return f"({v[0].item():.4g}, {v[1].item():.4g})"
