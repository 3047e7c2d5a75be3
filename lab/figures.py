"""The one path from a figure to the page: plain dicts in, no second Plotly validation, presenter sizes applied here.

Measured (FINDINGS.md): building figures through go.Figure's update_* calls and letting st.plotly_chart validate a
dict again was 48-70% of a rerun. Views build plain dicts; this module wraps them in a go.Figure made without
validation (st.plotly_chart then skips its own), and in presenter mode scales every font in the dict (titles, tick
labels, legends, annotations, the numbers written inside heatmap cells) so a back-row student can read them.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Sequence

import plotly.graph_objects as go
import streamlit as st
import torch

from lab.ui import presenting

def browser_numbers(values: torch.Tensor | Sequence[float], digits: int = 5) -> list[float]:
    """Numbers as a figure dict sends them to the browser: a tensor (flattened) or a sequence, rounded to `digits`
    decimals (far below a pixel on any chart here, and fewer bytes on every rerun)."""
    seq = values.flatten().tolist() if isinstance(values, torch.Tensor) else values
    return [round(float(v), digits) for v in seq]


PRESENTER_SCALE = 1.6  # presenter mode: chart text this much larger (a 1920 projector read from the back row)
BASE_FONT = 12  # Plotly's default font size: what un-sized text inherits
THEME_SIZES = {"tick": 12, "axis_title": 14, "legend": 12, "title": 16}  # what Streamlit's Plotly theme draws unset
# text at: it sets these itself, so they do not follow layout.font (measured in Chromium, tests/test_browser_links.py)


def scaled(fig: dict, factor: float) -> dict:
    """A copy of a figure dict with every font size multiplied by factor (unset sizes start from the theme's)."""
    out = copy.deepcopy(fig)
    layout = out.setdefault("layout", {})
    _grow(layout.setdefault("font", {}), factor)
    for name in ("xaxis", "yaxis", "legend"):  # drawn by the theme even when the dict leaves them out
        layout.setdefault(name, {})
    for name, part in list(layout.items()):
        if not isinstance(part, dict):
            continue
        if name.startswith(("xaxis", "yaxis")) or name in ("coloraxis", "polar", "scene"):
            _grow(part.setdefault("tickfont", {}), factor, default=THEME_SIZES["tick"])
            title = part.get("title")
            if isinstance(title, dict):
                _grow(title.setdefault("font", {}), factor, default=THEME_SIZES["axis_title"])
        if name == "legend":
            _grow(part.setdefault("font", {}), factor, default=THEME_SIZES["legend"])
            if isinstance(part.get("title"), dict):
                _grow(part["title"].setdefault("font", {}), factor, default=THEME_SIZES["legend"])
        if name == "title":
            _grow(part.setdefault("font", {}), factor, default=THEME_SIZES["title"])
    for note in layout.get("annotations", ()):
        _grow(note.setdefault("font", {}), factor, default=None)
    for slider in layout.get("sliders", ()):
        _grow(slider.setdefault("font", {}), factor, default=None)
        _grow((slider.get("currentvalue") or {}).get("font") or {}, factor, default=None)
    for trace in out.get("data", ()):
        for key in ("textfont", "insidetextfont", "outsidetextfont"):
            if isinstance(trace.get(key), dict):
                _grow(trace[key], factor, default=None)
        bar = trace.get("colorbar")
        if isinstance(bar, dict):
            _grow(bar.setdefault("tickfont", {}), factor, default=THEME_SIZES["tick"])
    for frame in out.get("frames", ()):
        for trace in frame.get("data", ()):
            if isinstance(trace.get("textfont"), dict):
                _grow(trace["textfont"], factor, default=None)
    if isinstance(layout.get("height"), (int, float)):
        layout["height"] = int(layout["height"] * (1 + (factor - 1) / 2))  # room for the larger text
    return out


def _grow(font: dict, factor: float, default: float | None = BASE_FONT) -> None:
    """Multiply a font dict's size in place (set it from `default` when it has none and a default is given)."""
    size = font.get("size", default)
    if isinstance(size, (int, float)):
        font["size"] = round(size * factor, 1)


class _Built(go.Figure):
    """A figure dict handed over as it is: st.plotly_chart only asks a go.Figure for to_dict(). For figures with
    frames (step-throughs played in the browser): go.Figure(d, _validate=False) still builds an object per frame
    and trace, about 1 ms a frame here, and to_dict() copies them again (0.25 ms a frame)."""

    def __init__(self, spec: dict) -> None:
        super().__init__(_validate=False)
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def as_dict(fig: dict | go.Figure) -> dict:
    """A figure as a plain dict (a go.Figure from an older view is converted once)."""
    return fig.to_plotly_json() if isinstance(fig, go.Figure) else fig


def show(fig: dict | go.Figure, where: Any = st, *, key: str | None = None, static: bool = False,
         on_select: Callable[[], None] | str | None = None, selection_mode: str | tuple[str, ...] | None = None,
         config: dict | None = None, width: str | int = "stretch") -> Any:
    """Draw a figure dict in `where` (st, a column, a container): unvalidated, presenter-sized when presenting."""
    spec = as_dict(fig)
    if presenting():
        spec = scaled(spec, PRESENTER_SCALE)
    config = dict(config or {})
    if static:
        config["staticPlot"] = True
    kwargs: dict[str, Any] = {"width": width, "config": config}
    if key is not None:
        kwargs["key"] = key
    if on_select is not None:
        kwargs["on_select"] = on_select
        if selection_mode is not None:
            kwargs["selection_mode"] = selection_mode
    figure = _Built(spec) if spec.get("frames") else go.Figure(spec, _validate=False)
    return where.plotly_chart(figure, **kwargs)
