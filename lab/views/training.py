"""Drawing of the training lab (shell): the layer table of the network being designed, and "watch it learn": each
run's conv1 filters, the watched digit's conv1 maps and its ten probabilities at one moment of training. The curves
and progress of the runs are drawn by lab/runs.py."""
from __future__ import annotations

from typing import Sequence

import torch

from core.lenet import LayerPlan
from core.model_inspect import tile_maps
from core.snapshots import Snapshot
from lab.ui import t

PLAN_ROWS = ("input", "conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2", "fc3")  # activations change nothing
MAX_CHANNELS = 8  # conv1 channels drawn per run (a wide net has 16 or more): enough to see them change
Moment = tuple[int, int]  # (epoch, batches done in it): (0, 0) before training
DIVERGING = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1.0, "#b2182b"]]  # -blue +red
POSITIVE = [[0.0, "#f7f7f7"], [0.5, "#f4a582"], [1.0, "#b2182b"]]  # white at 0 to red: maps with nothing negative


def shape_text(shape: Sequence[int]) -> str:
    """(6, 28, 28) -> '6×28×28'."""
    return "×".join(str(n) for n in shape)


def layer_rows(plan: LayerPlan, kernel: int, padding: int) -> list[dict[str, str]]:
    """The layer table: each layer's output shape, parameters and multiply-adds for one digit, then the totals."""
    rows = []
    for name in PLAN_ROWS:
        row = plan.row(name)
        text = t(f"training.plan_{name}", k=kernel, p=padding)
        rows.append({t("training.plan_col_layer"): text, t("training.plan_col_shape"): shape_text(row.shape),
                     t("training.plan_col_params"): f"{row.params:,}", t("training.plan_col_macs"): f"{row.macs:,}"})
    rows.append({t("training.plan_col_layer"): t("training.plan_total"), t("training.plan_col_shape"): "",
                 t("training.plan_col_params"): f"{plan.params:,}", t("training.plan_col_macs"): f"{plan.macs:,}"})
    return rows


def moment_text(moment: Moment, batches: int) -> str:
    """'before training', 'epoch 1, after 4 batches', 'after epoch 3'."""
    epoch, batch = moment
    if epoch == 0:
        return t("training.snap_before")
    if batch < batches:
        return t("training.snap_batches", epoch=epoch, batches=batch)
    return t("training.snap_epoch", epoch=epoch)


def at_moment(snapshots: Sequence[Snapshot], moment: Moment) -> Snapshot | None:
    """The run's latest snapshot taken at or before `moment` (a run that stopped early stays at its last one)."""
    taken = [s for s in snapshots if (s.epoch, s.batch) <= moment]
    return taken[-1] if taken else None


def _picture(tiles: torch.Tensor, xa: str, ya: str) -> dict:
    """A tiled heatmap drawn as a picture: red positive, blue negative around 0 (white); a map with nothing negative
    (after ReLU) runs from white at 0 to red."""
    top = float(torch.nan_to_num(tiles).abs().max()) or 1.0
    signed = bool((torch.nan_to_num(tiles) < 0).any())
    scale = DIVERGING if signed else POSITIVE
    z = [[None if v != v else round(v, 4) for v in row] for row in tiles.tolist()]  # NaN between tiles: blank
    return dict(type="heatmap", z=z, xaxis=xa, yaxis=ya, colorscale=scale, zmin=-top if signed else 0.0, zmax=top,
                showscale=False, hoverongaps=False, hovertemplate="%{z:.3f}<extra></extra>")


def snapshot_figure(names: Sequence[str], colors: Sequence[str], snaps: Sequence[Snapshot | None]) -> dict:
    """One column per run: conv1's filters on top, the watched digit's conv1 maps (after the activation) in the middle,
    its ten class probabilities below. Filters share one colour scale per run, and so do the maps."""
    n = max(1, len(names))
    gap = 0.03 if n > 1 else 0.0
    rows = {"filters": (0.70, 1.0), "maps": (0.34, 0.64), "probs": (0.0, 0.22)}
    data: list[dict] = []
    layout: dict = dict(height=560, margin=dict(l=10, r=10, t=40, b=10), showlegend=False, annotations=[],
                        plot_bgcolor="rgba(0,0,0,0)")
    for c, (name, color, snap) in enumerate(zip(names, colors, snaps)):
        x0, x1 = c / n + (gap if c else 0.0), (c + 1) / n - (gap if c < n - 1 else 0.0)
        layout["annotations"].append(dict(text=f"<b>{name}</b>", x=(x0 + x1) / 2, y=1.0, xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", showarrow=False,
                                          font=dict(size=14, color=color)))
        for r, (row, (y0, y1)) in enumerate(rows.items()):
            i = 3 * c + r + 1
            xa, ya = f"x{i if i > 1 else ''}", f"y{i if i > 1 else ''}"
            picture = row != "probs"
            axis = dict(domain=[x0, x1], anchor=ya, showticklabels=not picture, showgrid=False, zeroline=False)
            yaxis = dict(domain=[y0, y1], anchor=xa, showticklabels=not picture, showgrid=False, zeroline=False)
            if picture:
                yaxis.update(autorange="reversed", scaleanchor=xa)
            else:
                axis.update(type="category", title=dict(text=t("training.snap_digit_axis")), tickmode="array",
                            tickvals=[str(d) for d in range(10)])
                yaxis.update(range=[0, 1.05], tickformat=".0%", title=dict(text=t("training.snap_prob_axis")),
                             showgrid=True)
            layout[f"xaxis{i if i > 1 else ''}"] = axis
            layout[f"yaxis{i if i > 1 else ''}"] = yaxis
            if c == 0 or snap is None:
                text = t(f"training.snap_row_{row}") if c == 0 else ""
                if snap is None and r == 1:
                    text = t("training.snap_none")
                if text:
                    layout["annotations"].append(dict(text=text, x=x0, y=y1, xref="paper", yref="paper",
                                                      xanchor="left", yanchor="bottom", showarrow=False,
                                                      font=dict(size=12)))
            if snap is None:
                continue
            if row in ("filters", "maps"):
                pics = (snap.filters.float() if row == "filters" else snap.feature_maps())[:MAX_CHANNELS]  # (C, h, w)
                data.append(_picture(tile_maps(pics, min(len(pics), 4 if len(pics) > 6 else 3)), xa, ya))
            else:
                p = snap.probs.float()
                best = int(p.argmax())
                data.append(dict(type="bar", x=[str(d) for d in range(10)], y=p.tolist(), xaxis=xa, yaxis=ya,
                                 marker=dict(color=[color if d == best else "#c8c8c8" for d in range(10)]),
                                 text=[f"{v:.0%}" if d == best else "" for d, v in enumerate(p.tolist())],
                                 textposition="outside", cliponaxis=False,
                                 hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    return dict(data=data, layout=layout)
