"""The train() vs eval() page in AppTest, both languages: it runs, and the spread of repeated calls is core's."""

import pytest

from conftest import code_panel_in, run_app, shown_in
from core.data import to_model_input
from core.train_eval import repeat_forward

PAGE = "app_pages/train_eval.py"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(lang):
    at = run_app(lang, page=PAGE)
    shown_in(at, lang)
    code_panel_in(at, lang)


def test_train_eval_spread_matches_core(digits):
    at = run_app("en", page=PAGE, params={"te_drop": 0.3, "te_reps": 4, "te_seed": 1})
    assert not at.exception
    x = to_model_input(digits.test_images[:16])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Largest change between calls, train()"] == f"{repeat_forward(x, 'train', 4, 0.3, 0.1, 1).spread:.4f}"
    assert metrics["Largest change between calls, eval()"] == "0.0000"
    assert metrics["Kept for backward under no_grad"] == "0.00 MB"
    assert float(metrics["Forward time, tracking on"].split()[0]) > 0
    at.slider(key="te_drop").set_value(0.0).run()
    assert {m.label: m.value for m in at.metric}["Largest change between calls, train()"] == "0.0000"
