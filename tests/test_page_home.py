"""The home page in AppTest, both languages: it runs, and its shapes and parameter count come from a forward pass."""
import re

import pytest

from conftest import page_text, run_app

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
