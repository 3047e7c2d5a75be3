"""The autograd page in AppTest, both languages: it runs, and the piled-up gradients and the graph follow the
controls (the numbers are core's)."""

import numpy as np
import pytest

from charts import figures, values
from conftest import code_panel_in, page_text, run_app, shown_in
from core.autograd import backward_calls

PAGE = "app_pages/autograd.py"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(lang):
    at = run_app(lang, page=PAGE)
    shown_in(at, lang)
    code_panel_in(at, lang)


def test_autograd_accumulation_follows_the_controls():
    at = run_app("en", page=PAGE, params={"ag_seed": 2, "ag_calls": 3})
    assert not at.exception
    acc = backward_calls(2, 3, "retain_graph")
    bars = [tr for tr in figures(at)[1]["data"]]
    assert len(bars) == 3
    for tr, g in zip(bars, acc.grads):
        np.testing.assert_allclose(values(tr["y"]), g["b"].numpy(), rtol=1e-6)
    assert "b.grad is **3.00×**" in page_text(at)
    graph = at.get("graphviz_chart")[0].proto.spec
    assert "MmBackward0" in graph and "AccumulateGrad" in graph and "w [5, 3]" in graph
    at.radio(key="ag_pass").set_value("neither").run()
    assert not at.exception
    assert "second time" in at.code[-1].value or any("second time" in c.value for c in at.code)
    assert at.error and "refused" in at.error[0].value
    at.toggle(key="ag_xgrad").set_value(True).run()
    assert "x [5]" in at.get("graphviz_chart")[0].proto.spec


def test_gradient_pictures_hide_their_axes_and_the_bars_name_theirs():
    at = run_app("en", page=PAGE)
    grads, bars = figures(at)[:2]
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):  # w.grad and b.grad: numbers written in the cells
        assert grads["layout"][axis]["showticklabels"] is False
    assert [a["text"] for a in grads["layout"]["annotations"]] == ["w.grad [5, 3]", "b.grad [3]"]
    assert bars["layout"]["xaxis"]["title"]["text"] == "element of b.grad"
    assert bars["layout"]["yaxis"]["title"]["text"] == "value after each backward() call"
