"""Page helpers shared by every page: language, translation, code panels, friendly errors, and every widget whose
value lives in the URL (choices, multiselects, grids, cell sliders) with the Play controls that step them."""
from __future__ import annotations

import math
import time
from typing import Sequence, TypeVar

import numpy as np
import streamlit as st
import torch

from core.i18n import LANGUAGES, normalize_language, translate
from lab.cache import catalogs

LANGUAGE_NAMES = {"zh": "简体中文", "en": "English"}
T = TypeVar("T")


def lang() -> str:
    """The language this session shows, 'en' or 'zh'."""
    return st.session_state.get("lang") or browser_language()


def browser_language() -> str:
    """The browser's preferred language when it is one we have, else English."""
    try:
        return normalize_language(st.context.locale)
    except Exception:  # AppTest and old browsers have no locale
        return normalize_language(None)


def t(key: str, **fmt: object) -> str:
    """Translate key into the session's language (English as fallback)."""
    cats = catalogs()
    return translate(cats[lang()], key, cats["en"], **fmt)


def language_switch() -> None:
    """The 简体中文 / English switch; ?lang=zh or ?lang=en in a link chooses the language."""
    if "lang" not in st.session_state and st.query_params.get("lang") not in LANGUAGES:
        st.session_state["lang"] = browser_language()
    url_choice(st.sidebar.segmented_control, "🌐", list(LANGUAGE_NAMES), key="lang",
               format_func=LANGUAGE_NAMES.get, label_visibility="collapsed")


PRESENTER_CSS = """<style>
.stMainBlockContainer{font-size:1.3rem;max-width:100%}
.stMainBlockContainer p,.stMainBlockContainer li,.stMainBlockContainer label p{font-size:1.3rem}
.stMainBlockContainer h1{font-size:3rem} .stMainBlockContainer h2{font-size:2.3rem} .stMainBlockContainer h3{font-size:1.9rem}
.stMainBlockContainer pre,.stMainBlockContainer code{font-size:1.15rem}
.stMainBlockContainer [data-testid="stMetricValue"] p{font-size:2.8rem}
.stMainBlockContainer [data-testid="stMetricLabel"] p,.stMainBlockContainer [data-testid="stCaptionContainer"],
.stMainBlockContainer [data-testid="stCaptionContainer"] p{font-size:1.15rem}
</style>"""  # a projector at the back of a room: text, code and metrics larger (charts keep their own sizes)


def presenter_switch() -> bool:
    """Presenter mode: larger type for a projector. Bound to ?present= so links keep it."""
    on = st.sidebar.toggle(t("app.presenter"), key="present", bind="query-params", help=t("app.presenter_help"))
    if on:
        st.html(PRESENTER_CSS)
    return bool(on)


def presenting() -> bool:
    """True when the presenter switch is on: pages fold long explanations."""
    return bool(st.session_state.get("present"))


def explain(key: str, **fmt: object) -> None:
    """A paragraph of explanation, folded into an expander in presenter mode."""
    text = t(key, **fmt)
    if presenting():
        with st.expander(t("app.explanation")):
            st.markdown(text)
    else:
        st.markdown(text)


def code_panel(code: str) -> None:
    """The 'PyTorch code' expander with a runnable script reproducing what is on screen."""
    with st.expander(t("app.code_panel"), icon=":material/code:"):
        st.code(code, language="python")


def error(key: str, **fmt: object) -> None:
    """A translated error box, for bad input. Never a traceback."""
    st.error(t(key, **fmt), icon=":material/error:")


def error_text(exc: Exception | None, fallback: str) -> str:
    """A LabError's message in the session's language; `fallback` (a key) when there is no code to translate."""
    code = getattr(exc, "code", None)
    return t(f"errors.{code}", **getattr(exc, "params", {})) if code else t(fallback)


def lab_error(exc: Exception) -> None:
    """Show a core LabError (or any ValueError) as a translated message; never a traceback."""
    code = getattr(exc, "code", None)
    if code:
        error(f"errors.{code}", **getattr(exc, "params", {}))
    else:
        error("app.error_generic", detail=str(exc))


# ---- widgets whose value lives in the URL ----------------------------------------------------------------------------

def url_choice(widget, label: str, options: Sequence[T], key: str, default: T | None = None, **kwargs) -> T:
    """A select-type widget (selectbox, radio, segmented_control, pills) whose value lives in ?key=<option>.

    Streamlit's own bind= writes the *formatted* label into the URL, which changes with the language;
    this keeps the option itself there, so a link works whatever language opens it.
    """
    by_text = {str(o): o for o in options}
    if key not in st.session_state:
        wanted = st.query_params.get(key)
        st.session_state[key] = by_text.get(wanted, default if default is not None else options[0])
    if getattr(widget, "__name__", "") in ("segmented_control", "pills"):
        kwargs.setdefault("required", True)
    value = widget(label, options, key=key, **kwargs)
    if st.query_params.get(key) != str(value):
        st.query_params[key] = str(value)
    return value


def url_option(label_key: str, options: Sequence[T], key: str, default: T | None = None, widget=st.selectbox,
               prefix: str = "", **kwargs) -> T:
    """url_choice with a translated label and translated option names (the catalog key prefix + option)."""
    names = {o: t(f"{prefix}{o}") if prefix else str(o) for o in options}
    return url_choice(widget, t(label_key), list(options), key=key, default=default, format_func=names.get, **kwargs)


def url_multiselect(label: str, options: list[str], key: str, default: list[str], **kwargs) -> list[str]:
    """A multiselect whose chosen options live in ?key=a,b (the options themselves, not their translated labels)."""
    if key not in st.session_state:
        wanted = [o for o in (st.query_params.get(key) or "").split(",") if o in options]
        st.session_state[key] = wanted or [o for o in default if o in options]
    else:
        st.session_state[key] = [o for o in st.session_state[key] if o in options]
    value = st.multiselect(label, options, key=key, **kwargs)
    if st.query_params.get(key) != ",".join(value):
        st.query_params[key] = ",".join(value)
    return value


def url_number_refused(key: str, low: float, high: float) -> None:
    """Say so when a link asks for a number this widget cannot take (Streamlit drops it without a word).

    Call it just before the number widget bound to ?key=; the note stays while the refused value is in the URL."""
    raw = st.query_params.get(key)
    if raw is None:
        return
    try:
        ok = low <= float(raw) <= high  # False for NaN too
    except ValueError:
        ok = False
    if not ok:
        st.warning(t("app.url_refused", value=raw, low=f"{low:g}", high=f"{high:g}"), icon=":material/link_off:")


# ---- numbers as a student writes them, and the URL-bound grids and cell sliders built on them ------------------------

def fmt(v: float, digits: int = 2) -> str:
    """A number as a student writes it: 1, -0.5, 0.33 (no trailing zeros, no -0)."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_grid(text: str | None) -> list[list[float]] | None:
    """'1,0,-1;1,0,-1' -> [[1, 0, -1], [1, 0, -1]]; None for anything malformed, ragged or not finite."""
    if not text:
        return None
    try:
        rows = [[float(v) for v in row.split(",")] for row in text.split(";")]
    except ValueError:
        return None
    if len({len(r) for r in rows}) != 1 or not all(math.isfinite(v) for r in rows for v in r):
        return None
    return rows


def grid_text(rows: list[list[float]]) -> str:
    """The URL form of a grid (the inverse of parse_grid)."""
    return ";".join(",".join(fmt(v, 4) for v in row) for row in rows)


def url_grid(label: str, key: str, default: torch.Tensor, h: int, w: int, limit: float = 1000.0) -> torch.Tensor:
    """An editable h x w grid of numbers kept in ?key=1,0,-1;... (cropped or zero-padded when its size changes)."""
    if key not in st.session_state:
        st.session_state[key] = st.query_params.get(key) or grid_text(default.tolist())
    rows = parse_grid(st.session_state[key])
    if rows is None:
        st.warning(t("conv.grid_unreadable"), icon=":material/warning:")
        rows = default.tolist()
    grid = np.zeros((h, w))
    src = np.clip(np.asarray(rows, dtype=float), -limit, limit)
    grid[: min(h, src.shape[0]), : min(w, src.shape[1])] = src[:h, :w]
    edited = st.data_editor(grid, key=f"{key}_editor_{h}x{w}", hide_index=True, width="content",
                            column_config={str(i): st.column_config.NumberColumn(str(i + 1), width="small",
                                                                                  min_value=-limit, max_value=limit)
                                           for i in range(w)})
    grid = np.nan_to_num(np.asarray(edited, dtype=float), nan=0.0)
    text = grid_text(grid.tolist())
    st.session_state[key] = text
    if st.query_params.get(key) != text:
        st.query_params[key] = text
    st.caption(label)
    return torch.tensor(grid, dtype=torch.float32)


def position(key_row: str, key_col: str, h: int, w: int, labels: tuple[str, str], where=st,
             default: tuple[int, int] = (0, 0), disabled: bool = False) -> tuple[int, int]:
    """Row and column sliders of an output cell, kept inside the map when its size changes.

    `default` is the sliders' own default, so a link leaves it out of the address and still means the same cell."""
    for key, n in ((key_row, h), (key_col, w)):
        if key in st.session_state and not 0 <= int(st.session_state[key]) <= n - 1:  # write only to clamp
            st.session_state[key] = min(max(int(st.session_state[key]), 0), n - 1)
    c1, c2 = where.columns(2)
    row = c1.slider(labels[0], 0, max(h - 1, 1), min(default[0], h - 1), key=key_row, bind="query-params",
                    disabled=disabled or h == 1)
    col = c2.slider(labels[1], 0, max(w - 1, 1), min(default[1], w - 1), key=key_col, bind="query-params",
                    disabled=disabled or w == 1)
    return min(row, h - 1), min(col, w - 1)


def clicked_cell(key: str) -> tuple[int, int] | None:
    """The (row, col) of the point last clicked on chart `key`, if any."""
    state = st.session_state.get(key)
    points = getattr(getattr(state, "selection", None), "points", None) or []
    if not points:
        return None
    p = points[0]
    return int(round(float(p["y"]))), int(round(float(p["x"])))


# ---- Play ------------------------------------------------------------------------------------------------------------
# Two Play controls: a toggle that walks a window over the cells of a map (convolution), and a button that runs a
# step slider to its end (optimizers).
#
# Cell Play. While it plays, the window's cell lives in `<prefix>_cursor`, plain session state that only the server
# writes, and the (disabled) sliders just show it. Reading the cell back from the sliders instead made the window
# jump back and forth: timer reruns arrive with the browser's slider values, which can lag a step behind.

def cell_play_toggle(prefix: str, label: str, help: str, where=st) -> bool:
    """The Play toggle of the cell sliders <prefix>_row / <prefix>_col (not in the URL: playing is a moment)."""
    return where.toggle(label, key=f"{prefix}_play", help=help, on_change=on_play, args=(prefix,))


def on_play(prefix: str) -> None:
    """The play toggle changed: starting plays on from the cell on show; stopping hands the cell back to the sliders."""
    ss = st.session_state
    if ss.get(f"{prefix}_play"):
        ss[f"{prefix}_cursor"] = (ss.get(f"{prefix}_row", 0), ss.get(f"{prefix}_col", 0))
        ss[f"{prefix}_tick"] = time.monotonic()
    else:
        ss[f"{prefix}_sync"] = True


def play_step(prefix: str, h: int, w: int, seconds: float) -> None:
    """One timer tick: the cursor moves one cell on (row-major); after the last cell play stops (a full rerun)."""
    ss = st.session_state
    row, col = ss.get(f"{prefix}_cursor", (0, 0))
    row, col = min(row, h - 1), min(col, w - 1)
    if time.monotonic() - ss.get(f"{prefix}_tick", 0.0) >= 0.8 * seconds:  # not a rerun something else caused
        ss[f"{prefix}_tick"] = time.monotonic()
        n = row * w + col + 1
        if n >= h * w:
            ss[f"{prefix}_play"], ss[f"{prefix}_sync"] = False, True
            st.rerun()
        row, col = divmod(n, w)
    ss[f"{prefix}_cursor"] = (row, col)
    ss[f"{prefix}_row"], ss[f"{prefix}_col"] = row, col


def sync_position(prefix: str) -> None:
    """After play stops, the sliders start from the cell it reached."""
    ss = st.session_state
    if ss.pop(f"{prefix}_sync", False) and f"{prefix}_cursor" in ss:
        ss[f"{prefix}_row"], ss[f"{prefix}_col"] = ss[f"{prefix}_cursor"]



# Step Play. A button toggles <prefix>_playing; while it is on, a fragment that redraws every tick calls
# play_tick before drawing the slider <prefix>_at, and play_end after; the step reaching the last one stops it.

def step_play_button(prefix: str, last: int, play: str, pause: str) -> bool:
    """Play / Pause for the step slider <prefix>_at (0..last); pressing Play at the end starts again from 0."""
    ss = st.session_state
    if f"{prefix}_playing" not in ss:
        ss[f"{prefix}_playing"] = False
    playing = ss[f"{prefix}_playing"]

    def toggle() -> None:
        ss[f"{prefix}_playing"] = not ss[f"{prefix}_playing"]
        if ss[f"{prefix}_playing"] and ss.get(f"{prefix}_at", last) >= last:
            ss[f"{prefix}_at"] = 0

    st.button(pause if playing else play, icon=":material/pause:" if playing else ":material/play_arrow:",
              on_click=toggle, key=f"{prefix}_play")
    return playing


def play_tick(prefix: str, last: int, stride: int) -> None:
    """While playing, move <prefix>_at `stride` steps on; in any case keep it within 0..last."""
    ss = st.session_state
    if ss[f"{prefix}_playing"]:
        ss[f"{prefix}_at"] = min(int(ss.get(f"{prefix}_at", 0)) + stride, last)
    if ss.get(f"{prefix}_at", 0) > last:
        ss[f"{prefix}_at"] = last


def play_end(prefix: str, at: int, last: int) -> None:
    """After drawing step `at`: playing and at the last step, stop (one full rerun shows the Play button again)."""
    if st.session_state[f"{prefix}_playing"] and at >= last:
        st.session_state[f"{prefix}_playing"] = False
        st.rerun()
