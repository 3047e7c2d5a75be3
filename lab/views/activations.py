"""Drawing of the activation-functions page (shell): f and f' with their saturation bands, a feature map before and
after the activation, gradient norms through a deep stack, and the share of dead ReLUs. Figures are plain dicts."""
from __future__ import annotations

import torch

from core.activations import NAMES, ActivationValues, StackGradients
from lab.figures import browser_numbers
from lab.ui import t

COLORS = dict(zip(NAMES, ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#9d755d"]))



def functions_figure(curves: list[tuple[str, ActivationValues, list[tuple[float, float]]]]) -> dict:
    """f(x) solid and f'(x) dotted for each (name, values, saturated ranges), the saturated ranges shaded."""
    data, shapes = [], []
    for name, v, bands in curves:
        label, x = t(f"act.name_{name}"), browser_numbers(v.x, 4)
        data.append({"type": "scatter", "x": x, "y": browser_numbers(v.y), "name": f"{label}  f(x)", "mode": "lines",
                     "line": {"color": COLORS[name]}})
        data.append({"type": "scatter", "x": x, "y": browser_numbers(v.dy), "name": f"{label}  f'(x)", "mode": "lines",
                     "line": {"color": COLORS[name], "dash": "dot"}})
        shapes += [{"type": "rect", "xref": "x", "yref": "paper", "x0": lo, "x1": hi, "y0": 0, "y1": 1,
                    "fillcolor": COLORS[name], "opacity": 0.08, "line": {"width": 0}, "layer": "below"}
                   for lo, hi in bands]
    return {"data": data, "layout": {
        "height": 380, "margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "shapes": shapes,
        "xaxis": {"title": {"text": "x"}}, "yaxis": {"title": {"text": t("act.functions_axis")}},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"}}}


def feature_map_figure(pre: torch.Tensor, post: torch.Tensor, channel: int, act: str) -> dict:
    """One channel (1-based) of conv1's maps (C, H, W) before and after the activation on one colour scale, and the
    histogram of every value before and after."""
    reach = float(pre.abs().max()) or 1.0  # one colour scale for both maps
    widths = ((0.0, 0.2), (0.25, 0.45), (0.62, 1.0))
    data = []
    for i, z in enumerate((pre[channel - 1], post[channel - 1]), start=1):
        data.append({"type": "heatmap", "z": [browser_numbers(row, 4) for row in z], "colorscale": "RdBu", "zmin": -reach,
                     "zmax": reach, "showscale": i == 2, "xaxis": f"x{i if i > 1 else ''}",
                     "yaxis": f"y{i if i > 1 else ''}",
                     "colorbar": {"x": 0.46, "xanchor": "left", "thickness": 10, "len": 0.9}})
    for name, values, color in ((t("act.before"), pre, "#4c78a8"), (t("act.after_short"), post, "#f58518")):
        data.append({"type": "histogram", "x": browser_numbers(values, 4), "name": name, "opacity": 0.6, "nbinsx": 60,
                     "marker": {"color": color}, "xaxis": "x3", "yaxis": "y3"})
    picture = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": ""}
    layout = {"barmode": "overlay", "height": 300, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
              "legend": {"orientation": "h", "x": 1.0, "xanchor": "right", "y": 0.98, "yanchor": "top",
                         "bgcolor": "rgba(255,255,255,0.8)"},
              "annotations": [{"text": text, "x": sum(w) / 2, "y": 1.0, "xref": "paper", "yref": "paper",
                               "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 14}}
                              for text, w in zip([t("act.before"), t("act.after", name=t(f"act.name_{act}")),
                                                  t("act.hist")], widths)],
              "xaxis3": {"domain": list(widths[2]), "anchor": "y3", "title": {"text": t("act.hist_value")}},
              "yaxis3": {"anchor": "x3", "title": {"text": t("act.hist_count")}}}
    for i, w in enumerate(widths[:2], start=1):
        suffix = str(i) if i > 1 else ""
        layout[f"xaxis{suffix}"] = {"domain": list(w), "anchor": f"y{suffix}", **picture}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "autorange": "reversed", "scaleanchor": f"x{suffix}",
                                    **picture}
    return {"data": data, "layout": layout}


def vanishing_figure(results: dict[str, StackGradients], depth: int) -> dict:
    """The weight-gradient norm of every layer of a deep stack, one line per activation, on a log axis."""
    data = [{"type": "scatter", "x": list(range(1, depth + 1)), "y": [float(f"{v:.4g}") for v in
                                                                      r.weight_grad_norm.tolist()],
             "name": t(f"act.name_{n}"), "mode": "lines+markers", "line": {"color": COLORS[n]}}
            for n, r in results.items()]
    return {"data": data, "layout": {
        "height": 340, "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "xaxis": {"title": {"text": t("act.layer_axis")}, "dtick": 1 if depth <= 15 else None},
        "yaxis": {"type": "log", "exponentformat": "power", "title": {"text": t("act.grad_axis")}}}}


def dead_figure(dead: dict[str, float]) -> dict:
    """The share of dead ReLU units in each layer, as bars."""
    return {"data": [{"type": "bar", "x": [t(f"act.layer_{k}") for k in dead], "y": list(dead.values()),
                      "marker": {"color": "#e45756"}, "text": [f"{v:.1%}" for v in dead.values()],
                      "textposition": "outside", "cliponaxis": False}],
            "layout": {"height": 280, "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
                       "xaxis": {"title": {"text": t("act.dead_layer_axis")}},
                       "yaxis": {"range": [0, 1.08], "tickformat": ".0%", "title": {"text": t("act.dead_axis")}}}}


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def ratio_text(ratio: float | torch.Tensor) -> str:
    """A ratio as a student reads it: 3.1, 0.079, 3.5×10⁻⁹."""
    r = float(ratio)
    if r == 0 or 1e-2 <= abs(r) < 1e3:
        return f"{r:.2g}"
    mantissa, exponent = f"{r:.1e}".split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(SUPERSCRIPT)}"
