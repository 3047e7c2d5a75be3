"""The app runs in both languages, with no exception, and every listed page is reachable."""
import re

import pytest

from conftest import page_text, run_app
from lab.nav import PAGES

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_runs(lang):
    at = run_app(lang)
    assert not at.exception
    text = page_text(at)
    assert at.title[0].value.startswith("LeNet Lab")
    assert ("61,706" in at.metric[0].value)
    assert bool(HAN.search(text)) == (lang == "zh")


def test_home_shapes_come_from_forward_pass():
    at = run_app("en")
    assert "[1, 1, 28, 28] → [1, 6, 28, 28] → [1, 6, 14, 14] → [1, 16, 10, 10] → [1, 16, 5, 5] → [1, 400]" in at.code[0].value


@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_listed_page_runs(spec, lang):
    at = run_app(lang, page=spec.path)
    assert not at.exception, at.exception
    if lang == "zh":
        assert HAN.search(page_text(at))


def test_switching_from_home_to_a_page_keeps_the_language():
    """The page tests open their page directly (a deep link); this one goes the way a student clicks: home first."""
    at = run_app("zh")
    home = at.title[0].value
    for spec in (PAGES[-1], PAGES[1]):
        at.switch_page(spec.path).run()
        assert not at.exception, at.exception
        assert HAN.search(page_text(at)) and at.session_state["lang"] == "zh"
        assert at.title[0].value != home
