"""Page helpers shared by every page: language, translation (user text shown as text), code panels, friendly errors,
every widget whose value lives in the URL (choices, multiselects, grids, cell sliders), the screening of a link's
values with the note that says what was replaced, presenter mode, and the Play controls."""
from __future__ import annotations

import math
import re
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

import numpy as np
import streamlit as st
import torch
from streamlit.errors import StreamlitAPIException

from core.i18n import LANGUAGES, normalize_language, translate
from lab import links
from lab.cache import catalogs
from lab.nav import PageSpec, page_for
from lab.snippets import translate_comments

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


def t(key: str, /, **fmt: object) -> str:
    """Translate key into the session's language (English as fallback).

    A value from a user (marked with user(): a link's value, an upload's name, a typed token) is shown literally;
    any other text value that would make a link, a picture or HTML is shown literally too."""
    cats = catalogs()
    fmt = {k: literal(v) if isinstance(v, UserText) or (type(v) is str and ACTIVE.search(v)) else v
           for k, v in fmt.items()}  # a Markdown value (made by t()) is ours, whatever it shows
    return Markdown(translate(cats[lang()], key, cats["en"], **fmt))


# ---- text from users: shown as text, never as markdown ---------------------------------------------------------------
# Everything t() makes is drawn as Markdown (warnings, captions, labels). A value a user chose could make a link
# ("[Log in again](http://host)"), a picture fetched from any host ("![t](http://host/t.png)"), an icon or coloured
# text (":red[...]"); backslash escapes do not stop Streamlit's autolinks and icons, an inline code span stops all.

class UserText(str):
    """A text that came from a user: t() shows it literally."""


class Markdown(str):
    """A text t() made: user values inside it are literal already, so it can go into another t() as it is."""


def user(value: object) -> UserText:
    """Mark a value that came from a user (a link, an upload's name, a typed box) for t()."""
    return UserText(value)


PLAIN = re.compile(r"[-+]?[^\W_]+(?:[ .,+\-=/%]+[^\W_]+)*[.%]?")  # words and numbers: 0.5, -3, 1e-05, beta1, 学习率
ACTIVE = re.compile(r"\]\s*[(\[]|!\[|<https?:|://|www\.|:[a-z]+(?:/[a-z_]+)?:|:[a-z]+\[", re.IGNORECASE)
# ^ what makes a link, an image, an autolink, an icon or coloured text out of a value (raw HTML stays text in
#   Streamlit's Markdown)


def literal(value: object, limit: int | None = None) -> Markdown:
    """A value shown as itself inside Markdown: plain words and numbers stay as they are, anything else becomes an
    inline code span (no link, picture, icon or emphasis can come out of it); one line, at most `limit` characters."""
    text = " ".join(str(value).split())  # no line breaks: a blank line would end the code span
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    if PLAIN.fullmatch(text) and "www." not in text.lower():
        return Markdown(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return Markdown(f"{fence} {text} {fence}")


def language_switch() -> None:
    """The 简体中文 / English switch; ?lang=zh or ?lang=en in a link chooses the language."""
    raw = st.query_params.get("lang")
    if "lang" not in st.session_state and raw not in LANGUAGES:
        st.session_state["lang"] = browser_language()
        if raw is not None:
            _refused_option("lang", raw, LANGUAGES)
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
.stMainBlockContainer input,.stMainBlockContainer textarea,.stMainBlockContainer [data-baseweb="select"] div{font-size:1.3rem}
.stMainBlockContainer [data-testid="stSlider"] [role="group"]{padding-top:0.9rem}
.stMainBlockContainer [data-testid="stSliderThumbValue"]{top:auto;bottom:calc(100% + 4px)}
.stMainBlockContainer [data-testid="stSliderThumbValue"] p{line-height:1.2}
.stMainBlockContainer [data-testid="stSliderTickBar"] p{font-size:1.15rem}
</style>"""  # a projector at the back of a room: text, code, metrics and the values in controls larger; a slider's value
# sits above its thumb, not over it (charts grow in lab.figures)


def presenter_switch() -> bool:
    """Presenter mode: larger type for a projector. Bound to ?present= so links keep it."""
    on = st.sidebar.toggle(t("app.presenter"), key="present", bind="query-params", help=t("app.presenter_help"))
    if on:
        st.html(PRESENTER_CSS)
    return bool(on)


def presenting() -> bool:
    """True when the presenter switch is on: pages fold long explanations."""
    return bool(st.session_state.get("present"))


@contextmanager
def secondary() -> Iterator[None]:
    """Controls a class seldom needs: in presenter mode they fold into a "More controls" expander, off the projected
    screen but a click away (their keys keep their values either way). `with ui.secondary(): ...`"""
    if presenting():
        with st.expander(t("present.more"), icon=":material/tune:"):
            yield
    else:
        yield


def explain(key: str, **fmt: object) -> None:
    """A paragraph of explanation, folded into an expander in presenter mode."""
    text = t(key, **fmt)
    if presenting():
        with st.expander(t("app.explanation")):
            st.markdown(text)
    else:
        st.markdown(text)


def code_panel(code: str, settings: Sequence[tuple[str, object]] | None = None) -> None:
    """The 'PyTorch code' expander with a runnable script reproducing what is on screen (its comments in the UI
    language: lab.snippets), and its download as a Jupyter notebook holding `settings` (default: the page's controls
    bound to the URL, as they are now)."""
    shown = translate_comments(code, lang())
    spec = current_page()
    name = Path(spec.path).stem if spec else "lenet_lab"
    with st.expander(t("app.code_panel"), icon=":material/code:"):
        st.code(shown, language="python")
        st.download_button(t("notebook.download"), notebook_maker(shown, lang(), t(spec.title) if spec else "LeNet Lab",
                                                                  page_settings(name) if settings is None else settings),
                           file_name=f"{name}.ipynb", mime="application/x-ipynb+json", on_click="ignore",
                           key=f"notebook_{zlib.crc32(shown.encode())}", help=t("notebook.download_help"),
                           icon=":material/download:")


def notebook_maker(shown: str, language: str, title: str, settings: Sequence[tuple[str, object]]
                   ) -> Callable[[], bytes]:
    """The notebook download's data: a function Streamlit calls only when the button is clicked (on a thread of its
    own, where st.* does nothing), so a rerun on every slider move costs nothing. Everything it needs is taken now."""
    cats = catalogs()
    settings = tuple((str(name), str(value)) for name, value in settings)

    def make() -> bytes:
        from core.data import embedded_csv_path
        from core.notebook import build_notebook, notebook_bytes  # nbformat is imported on the first click only
        from lab.snippets.training import carried

        script, data_cell = carried(shown, embedded_csv_path().read_bytes)
        return notebook_bytes(build_notebook(translate_comments(script, language), cats[language], title, settings,
                                             cats["en"], data_cell))

    return make


def current_page() -> PageSpec | None:
    """The page running now (link_notes records its url path), None outside the app's navigation."""
    return page_for(st.session_state.get("_link_notes", ("",))[0])


def page_settings(name: str) -> list[tuple[str, str]]:
    """The page's controls bound to the URL and their values now: (label (URL name), value), for the notebook."""
    ss, rows = st.session_state, []
    for key, pattern, label in links.page_controls(name):
        for k in sorted(k for k in ss if re.fullmatch(key, k)) if pattern else [key] if key in ss else []:
            value = " ".join(str(ss[k]).split()).replace("`", "'").replace("|", "/")  # one table cell
            rows.append((f"{t(label)} ({k})" if label and not pattern else k, value[:80]))
    return rows


def error(key: str, **fmt: object) -> None:
    """A translated error box, for bad input. Never a traceback."""
    st.error(t(key, **fmt), icon=":material/error:")


def error_text(exc: Exception | None, fallback: str) -> str:
    """A LabError's message in the session's language; `fallback` (a key) when there is no code to translate."""
    code = getattr(exc, "code", None)
    return t(f"errors.{code}", **_as_user(getattr(exc, "params", {}))) if code else t(fallback)


def lab_error(exc: Exception) -> None:
    """Show a core LabError (or any ValueError) as a translated message; never a traceback."""
    code = getattr(exc, "code", None)
    if code:
        error(f"errors.{code}", **_as_user(getattr(exc, "params", {})))
    else:
        error("app.error_generic", detail=user(exc))


def _as_user(params: dict) -> dict:
    """An error's texts may be what a user typed or uploaded: shown literally (numbers keep their format)."""
    return {k: user(v) if isinstance(v, str) else v for k, v in params.items()}


def code(text: str, where=None, language: str | None = "python", **kwargs) -> None:
    """A short code block on the page (not the full panel): its comments in the UI language, like code_panel's."""
    shown = translate_comments(text, lang()) if language == "python" else text
    (where or st).code(shown, language=language, **kwargs)


# ---- a link's values: screened before any widget, and what was replaced said in the user's language -----------------
# A link is typed by anyone. screen_link() runs in app.py before any bound widget (after st.navigation, so the rerun it
# may ask for keeps the page): a value its control cannot take (lab.links judges it against the control as the page
# writes it) leaves the URL before Streamlit's binding sees it (Streamlit raises on `inf` in a whole-number box, and
# drops other values without a word), and the run starts again without it. link_notes() runs the page; on a page's
# first run in a session it compares what the link asked for with what each bound control took (limits known only at
# run time), adds what lab.ui's own URL widgets refused (url_choice, url_multiselect, url_grid, position), and shows
# one note at the top of the page, in the user's language, for as long as the page is on show.

@dataclass(frozen=True)
class LinkNote:
    """A value a link asked for and the page could not show."""

    key: str
    raw: str
    reason: links.Reason | None  # None: the control did not take it (its limits are only known while the page runs)
    label: str | None = None  # translation key of the control's label


def screen_link() -> dict[str, str]:
    """Before any widget: take out of the URL every value its control cannot take (and note it); start the run again
    without them when there were any. Returns the link's values as this run sees them."""
    ss = st.session_state
    ss["_link_judged"] = set()
    asked = {key: st.query_params[key] for key in st.query_params}
    changed = False
    for key, raw in asked.items():
        param = links.lookup(key)
        verdict = links.judge(param, raw, key) if param is not None else links.Verdict(True)
        try:
            if not verdict.ok:
                del st.query_params[key]
                _note(LinkNote(key, raw, verdict.reason, param.label))
            elif verdict.value is not None:
                st.query_params[key] = verdict.value  # '2.0' for a whole number: Streamlit would drop it
            else:
                continue
        except StreamlitAPIException:  # bound by this session's widgets already: Streamlit owns the value now
            continue
        changed = True
    if changed:
        st.rerun()
    return asked


@contextmanager
def link_notes(page: str, asked: dict[str, str]) -> Iterator[None]:
    """Run the page inside this; the note about the link's refused values goes on top of it.

    What was refused before the page ran is shown before it runs (a page may st.stop() half-way). What the page's
    controls did not take is known only once it has run: then the page runs once more with the note on top (an
    empty placeholder on every first visit would be an invisible first element on every page)."""
    ss = st.session_state
    shown_page, notes = ss.get("_link_notes", (page, []))
    notes = (notes if shown_page == page else []) + ss.pop("_link_pending", [])
    ss["_link_notes"] = (page, notes)
    first = page not in ss.setdefault("_link_seen", set())
    slot = st.empty() if notes else None
    if slot is not None:
        _draw_notes(slot, notes)
    try:
        yield
    finally:
        more = ss.pop("_link_pending", [])
        if first:
            ss["_link_seen"].add(page)
            more += _not_taken(asked, {n.key for n in notes + more} | ss.get("_link_judged", set()))
        ss["_link_notes"] = (page, notes + more)
        if slot is not None:
            _draw_notes(slot, notes + more)  # again: the values the controls show are known now
        elif more:
            st.rerun()


def _draw_notes(slot, notes: list[LinkNote]) -> None:
    slot.warning("\n\n".join(_note_text(n) for n in notes), icon=":material/link_off:")


def _note(note: LinkNote) -> None:
    st.session_state.setdefault("_link_pending", []).append(note)
    st.session_state.setdefault("_link_judged", set()).add(note.key)


def _judged(key: str) -> None:
    st.session_state.setdefault("_link_judged", set()).add(key)


def _not_taken(asked: dict[str, str], skip: set[str]) -> list[LinkNote]:
    """After the page's first run: the bound controls that did not take what the link asked for."""
    out = []
    for key, raw in asked.items():
        param = links.lookup(key)
        if param is None or key in skip or key not in st.session_state:
            continue  # not a bound control, judged already, or not on show in this run
        if not links.same_value(raw, st.session_state[key]):
            out.append(LinkNote(key, raw, None, param.label))
    return out


def _note_text(note: LinkNote) -> str:
    """One sentence: what the link asked for, why this control cannot show it, and what it shows instead."""
    name = t("links.name", label=t(note.label), param=user(note.key)) if note.label else literal(note.key)
    value = st.session_state.get(note.key)
    if value is None:  # not drawn (yet): its default as the page writes it, when that is a literal
        value = getattr(links.lookup(note.key), "default", None)
    shown = t("links.usual") if value is None else literal(_shown(value))
    fmt = dict(name=name, value=literal(note.raw, limit=60), shown=shown)
    if note.reason is None:
        return t("links.note_other", **fmt)
    reason = t(note.reason.key, **_as_user(note.reason.fmt))
    return t("links.note_error" if note.reason.key.startswith("errors.") else "links.note", reason=reason, **fmt)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return t("links.on") if value else t("links.off")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def _refused_option(key: str, raw: str, options: Sequence[object]) -> None:
    names = ", ".join(str(o) for o in list(options)[:12]) + (", …" if len(options) > 12 else "")
    _note(LinkNote(key, raw, links.Reason("links.take_options", {"options": names})))


# ---- widgets whose value lives in the URL ----------------------------------------------------------------------------

def url_choice(widget, label: str, options: Sequence[T], key: str, default: T | None = None, **kwargs) -> T:
    """A select-type widget (selectbox, radio, segmented_control, pills) whose value lives in ?key=<option>.

    Streamlit's own bind= writes the *formatted* label into the URL, which changes with the language;
    this keeps the option itself there, so a link works whatever language opens it. A link's value that is not
    one of the options is noted (link_notes) and the default is shown.
    """
    by_text = {str(o): o for o in options}
    if key not in st.session_state:
        wanted = st.query_params.get(key)
        if wanted is not None and wanted not in by_text:
            _refused_option(key, wanted, options)
        st.session_state[key] = by_text.get(wanted, default if default is not None else options[0])
        _judged(key)
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
        raw = st.query_params.get(key)
        asked = (raw or "").split(",")
        wanted = [o for o in asked if o in options]
        if raw and len(wanted) < len(asked):
            _refused_option(key, raw, options)
        st.session_state[key] = wanted or [o for o in default if o in options]
        _judged(key)
    else:
        st.session_state[key] = [o for o in st.session_state[key] if o in options]
    kwargs.setdefault("placeholder", t("widgets.choose"))  # Streamlit's own is English ("Choose options")
    value = st.multiselect(label, options, key=key, **kwargs)
    if st.query_params.get(key) != ",".join(value):
        st.query_params[key] = ",".join(value)
    return value


def keep_within(key: str, high: int) -> None:
    """Before a URL-bound slider whose upper end depends on the data (a network's channels): a value kept from a bigger
    one, or asked by a link, is brought down to `high`, where Streamlit would raise."""
    value = st.session_state.get(key)
    if isinstance(value, (int, float)) and value > high:
        st.session_state[key] = high


def url_number_refused(key: str, low: float, high: float) -> None:
    """Judge a link's number for the number box bound to ?key= against limits known only here (call it just before
    the widget). The note goes with the others on top of the page (link_notes); lab.links usually judged it already."""
    raw = st.query_params.get(key)
    if raw is None or key in st.session_state:
        return  # no value from a link, or the box has its own value already
    verdict = links.judge_number(raw, False, low, high, key)
    if not verdict.ok:
        _note(LinkNote(key, raw, verdict.reason, getattr(links.lookup(key), "label", None)))


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
        raw = st.query_params.get(key)
        if raw and parse_grid(raw) is None:
            _note(LinkNote(key, raw, links.Reason("links.take_grid")))
            raw = None
        st.session_state[key] = raw or grid_text(default.tolist())
        _judged(key)
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
        raw = st.query_params.get(key)
        if key not in st.session_state and raw is not None and not links.judge_number(raw, True, 0, n - 1).ok:
            _note(LinkNote(key, raw, links.Reason("links.take_int_range", {"low": 0, "high": n - 1})))
        _judged(key)
        if key in st.session_state and not 0 <= int(st.session_state[key]) <= n - 1:  # write only to clamp
            st.session_state[key] = min(max(int(st.session_state[key]), 0), n - 1)
    c1, c2 = where.columns(2)
    row = c1.slider(labels[0], 0, max(h - 1, 1), min(default[0], h - 1), key=key_row, bind="query-params",
                    disabled=disabled or h == 1)
    col = c2.slider(labels[1], 0, max(w - 1, 1), min(default[1], w - 1), key=key_col, bind="query-params",
                    disabled=disabled or w == 1)
    return min(row, h - 1), min(col, w - 1)
