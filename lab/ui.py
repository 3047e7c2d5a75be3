"""Page helpers shared by every page: language, translation, code panels, friendly errors."""
from __future__ import annotations

from typing import Sequence, TypeVar

import streamlit as st

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
