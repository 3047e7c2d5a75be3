"""Hostile links: every page's every URL-bound control against non-finite, huge, negative, wrong-type, markdown and very
long values (issue 16). No exception, no error box, no link or picture made from a value, and every value a control
could not take is named in the page's note, in the user's language.

The controls come from lab.links, which reads them from the pages' source (a new control is fuzzed without a change
here); a new f-string key needs an example key in EXAMPLES. Fast lane: the judge against every control and every bad
value (pure), and one AppTest run per page with a different bad value in each of its parameters; the slow lane gives
every parameter of every page every bad value. The browser tests (tests/test_browser_links.py) use real URL binding.
"""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from conftest import APP
from lab import links
from lab.nav import HOME, PAGES

HOST = "http://host"
BAD = {"inf": "inf", "-inf": "-inf", "nan": "nan", "huge": "1e308", "huge_int": "9" * 40, "negative": "-7",
       "wrong_type": "abc", "image": f"![t]({HOST}/track.png)", "link": f"[Log in again]({HOST}/phish)",
       "html": f"<img src={HOST}/x.png>", "long": "7" * 5000}
EXAMPLES = {  # f-string keys -> keys the pages really use (default view)
    "ag_v.+?": ["ag_v0", "ag_v2"], "conv_w.+?": ["conv_wR", "conv_wB"], "tr_r.+?_lr": ["tr_r1_lr", "tr_r2_lr"],
    "tr_r.+?_seed": ["tr_r1_seed"], "opt_lr.+?": ["opt_lr0", "opt_lr1", "opt_lr2"],
    "opt_.+?.+?_.+?": ["opt_momentum1_momentum", "opt_beta12_adam", "opt_eps2_adam", "opt_weight_decay0_sgd"],
    ".+?_batches": ["tr_batches"], "conv_kgrid_.+?": ["conv_kgrid_r"], "opt_o.+?": ["opt_o0", "opt_o1", "opt_o2"],
    "tr_r.+?_act": ["tr_r1_act"], "tr_r.+?_opt": ["tr_r2_opt"],
}
EVERY_PAGE = {"lab/ui.py"}  # the language switch and presenter mode are on every page
ALSO = {"lab/runs.py": ["training"]}  # the runs widget's toggle: only the training page shows it


def page_keys() -> dict[str, list[str]]:
    """url path -> the URL keys its page (and the shell around it) binds."""
    found: dict[str, list[str]] = {spec.url_path: [] for spec in PAGES}
    entries = [(p.key, p.pattern, p.where) for p in links.bound_params()] + list(links.helper_keys())
    for key, pattern, where in entries:
        path = where.split(":")[0]
        keys = EXAMPLES[key] if pattern else [key]
        owners = ([s.url_path for s in PAGES] if path in EVERY_PAGE else ALSO.get(path)
                  or [s.url_path for s in PAGES if s.path == path])
        for owner in owners:
            found[owner] += [k for k in keys if k not in found[owner]]
    return found


KEYS = page_keys()


def open_link(url_path: str, link: dict[str, str], lang: str = "en") -> AppTest:
    """A fresh session opening /<url_path>?<link> (AppTest seeds bound widgets from query params as a browser does)."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at._page_hash = calc_hash("" if url_path == HOME else url_path)  # the first run opens that page, as a link does
    at.query_params.update({"lang": lang, **link})
    return at.run()


def outside_code(text: str) -> str:
    """Markdown text without its code spans (what could still become a link or a picture)."""
    return re.sub(r"(`+)(.+?)\1", "", text, flags=re.S)


def shown_texts(at: AppTest) -> list[str]:
    kinds = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success", "toast")
    return [str(e.value) for kind in kinds for e in getattr(at, kind, [])]


def check(at: AppTest, link: dict[str, str]) -> None:
    """No exception, no error box, no link or picture from a value, and no value dropped without a word."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    for text in shown_texts(at):
        assert HOST not in outside_code(text), text
    notes = "\n".join(w.value for w in at.warning if "link" in w.value.lower() or "链接" in w.value)
    for key, raw in link.items():
        param = links.lookup(key)
        if param is not None:
            refused = not links.judge(param, raw, key).ok
        else:  # a url_choice-like widget: refused when the control on show holds something else
            refused = key in at.session_state and links.same_value(raw, at.session_state[key]) is False
        if refused:
            assert key in notes, (key, raw[:40], notes[:2000])


def test_every_page_has_its_keys():
    assert all(KEYS[spec.url_path] for spec in PAGES)
    assert {"conv_pad", "conv_src", "lang", "present"} <= set(KEYS["convolution"])
    assert "tr_batches" in KEYS["training"] and "tr_batches" not in KEYS["softmax"]


def test_every_pattern_has_examples():
    patterns = {p.key for p in links.bound_params() if p.pattern} | {k for k, pat, _ in links.helper_keys() if pat}
    assert patterns <= set(EXAMPLES), patterns - set(EXAMPLES)
    for pattern, keys in EXAMPLES.items():
        assert all(re.fullmatch(pattern, k) for k in keys)


@pytest.mark.parametrize("name", sorted(BAD))
def test_the_judge_refuses_every_bad_value_a_control_cannot_take(name):
    """Every bound control, every bad value: refused with a reason, or taken as a value the control really holds."""
    raw = BAD[name]
    for param in links.bound_params():
        for key in (EXAMPLES[param.key] if param.pattern else [param.key]):
            verdict = links.judge(param, raw, key)
            if param.kind == "text":
                continue  # judged by its own check (sm_logits: parse_logits), below
            if name == "negative" and param.low is not None and param.low <= -7:
                assert verdict.ok, key  # e.g. a bias of -7: a value the control shows
            else:
                assert not verdict.ok and verdict.reason is not None, (key, raw[:20])


def test_the_logits_box_takes_numbers_and_refuses_the_rest():
    param = links.lookup("sm_logits")
    assert links.judge(param, "2.0, 1.0, 0.1").ok and links.judge(param, "1000, 0, -1000").ok
    for raw in BAD.values():
        assert not links.judge(param, raw).ok


@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
def test_a_link_of_bad_values_opens_the_page_with_a_note(spec):
    """Fast lane: one run per page, each parameter with another bad value (rotated by page, so each kind is met)."""
    names = sorted(BAD)
    shift = PAGES.index(spec)
    link = {key: BAD[names[(i + shift) % len(names)]] for i, key in enumerate(KEYS[spec.url_path])}
    at = open_link(spec.url_path, link)
    check(at, link)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
def test_every_parameter_with_every_bad_value(spec, name):
    link = {key: BAD[name] for key in KEYS[spec.url_path]}
    check(open_link(spec.url_path, link), link)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_note_says_what_was_asked_what_the_control_takes_and_what_it_shows(lang):
    at = open_link("convolution", {"conv_pad": "99", "conv_stride": "inf"}, lang)
    check(at, {})
    (note,) = [w.value for w in at.warning if "conv_pad" in w.value]
    if lang == "en":
        assert "The link asked for **Padding P** (` conv_pad `) = 99; this control takes whole numbers from 0 to 3, " \
               "so it shows 0." in note
        assert "= inf; this control takes whole numbers from 1 to 3, so it shows 1." in note
    else:
        assert "链接要求 **填充 P**（` conv_pad `） = 99；这个控件只接受 0 到 3 之间的整数，所以显示的是 0。" in note
    assert at.slider(key="conv_pad").value == 0 and at.slider(key="conv_stride").value == 1
    assert "conv_pad" not in at.query_params and "conv_stride" not in at.query_params  # out of the address bar


def test_a_value_core_refuses_is_explained_with_core_s_reason():
    at = open_link("optimizers", {"opt_lr0": "-0.5"})
    check(at, {})
    assert any("The learning rate must be a positive number (got -0.5)" in w.value for w in at.warning)
    assert at.number_input(key="opt_lr0").value == 0.001


def test_a_tidy_whole_number_is_taken_without_a_note():
    at = open_link("convolution", {"conv_gh": "5.0", "conv_src": "grid"})
    check(at, {})
    assert at.number_input(key="conv_gh").value == 5 and not at.warning


@pytest.mark.parametrize("url_path", ["convolution", "training", "optimizers", "softmax"])
def test_a_link_copied_from_the_address_bar_opens_without_a_note(url_path):
    """The app's own links are valid: open a page, copy every value it put in the URL and every bound control's
    value, open that link in a new session: no note."""
    first = open_link(url_path, {})
    link = {k: v for k, v in first.query_params.items() if isinstance(v, str)}
    for key in KEYS[url_path]:
        if key in first.session_state and links.lookup(key) is not None:
            value = first.session_state[key]
            link[key] = str(value).lower() if isinstance(value, bool) else f"{value:g}" if isinstance(value, float) \
                else str(value)
    at = open_link(url_path, link)
    check(at, link)
    assert not [w.value for w in at.warning if "link asked" in w.value]


# ---- text from users is shown as text ----------------------------------------------------------------------------

def test_literal_keeps_words_and_numbers_and_quotes_everything_else():
    from lab.ui import literal

    for plain in ("0.001", "-7", "1e-05", "beta1", "学习率", "abc", "9999"):
        assert literal(plain) == plain
    for raw in BAD.values():
        if not raw.lstrip("-").replace(".", "").isalnum():
            assert literal(raw).startswith("` ") and HOST not in outside_code(literal(raw))
    assert literal("a ``b`` c") == "``` a ``b`` c ```"  # a longer fence than any run of backticks inside
    assert literal("line1\n\n# big") == "` line1 # big `"  # one line: a blank line would end the code span
    assert literal("7" * 5000, limit=60) == "` " + "7" * 60 + "… `"
    assert literal("www.host.com").startswith("`")  # an autolink without a scheme


def test_t_shows_user_values_and_anything_link_like_literally():
    from core.errors import LabError
    from lab.ui import error_text, t, user

    shown = t("app.error_generic", detail=user(BAD["link"]))
    assert HOST not in outside_code(shown) and "Log in again" in shown
    assert HOST not in outside_code(t("app.error_generic", detail=BAD["image"]))  # not marked, still quoted
    assert t("app.error_generic", detail="plain 0.5") == t("app.error_generic", detail=user("plain 0.5"))
    inner = t("app.error_generic", detail=user(BAD["image"]))
    assert t("app.error_generic", detail=inner).count("`") == inner.count("`")  # t()'s own text is not quoted again
    message = error_text(LabError("loss.unparseable", token=BAD["image"]), "app.error_generic")
    assert HOST not in outside_code(message) and "track.png" in message
