"""The app as a whole: every listed page runs in both languages with no exception, and presenter mode folds the
explanations. (Each page's own tests are tests/test_page_<page>.py.)"""
import re

import pytest

from conftest import page_text, run_app
from lab.nav import PAGES

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("page,intro", [("app_pages/image_tensor.py", "image_tensor.intro"),
                                        ("app_pages/dataset.py", "dataset.intro"),
                                        ("app_pages/autograd.py", "autograd.intro"),
                                        ("app_pages/train_eval.py", "train_eval.intro"),
                                        ("app_pages/pitfalls.py", "pitfalls.intro")])
def test_presenter_mode_folds_every_explanation(page, intro):
    from core.i18n import load_catalog

    text = load_catalog("en")[intro]
    plain = run_app("en", page=page)
    assert any(m.value == text for m in plain.markdown)
    at = run_app("en", page=page, params={"present": True})
    assert not at.exception
    folded = [e for e in at.expander if e.label == "Explanation"]
    assert folded and any(m.value == text for e in folded for m in e.markdown)
    outside = [m.value for m in at.main.markdown if m.value == text]  # at.main walks into expanders too
    assert len(outside) == 1  # only the copy inside the expander


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
