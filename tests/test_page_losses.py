"""The softmax / cross-entropy page in AppTest, both languages: numbers are core's and torch's; bad input is a message."""
import re

import pytest
import torch
import torch.nn as nn

from conftest import page_text, run_app
from core.losses import batch_cross_entropy, ce_vs_mse, cross_entropy_breakdown

PAGE = "app_pages/losses.py"
HAN = re.compile(r"[\u4e00-\u9fff]")


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs(lang):
    at = run_app(lang, PAGE)
    assert not at.exception and not at.error
    assert bool(HAN.search(page_text(at))) == (lang == "zh")


def test_course_example_and_torch_agree():
    at = run_app("en", PAGE)
    m = metrics(at)
    ce = cross_entropy_breakdown([2.0, 1.0, 0.1], 0)
    assert m["Loss, step by step"] == f"{ce.loss:.4f}" == "0.4170"
    ref = nn.CrossEntropyLoss()(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0])).item()
    assert m["nn.CrossEntropyLoss()"] == f"{ref:.4f}"
    assert m["p[class 0]"] == "0.6590"
    batch = batch_cross_entropy([[1.2, 0.8, 2.1, 0.5], [0.2, 2.5, 0.3, 1.0], [1.5, 0.2, 0.3, 3.1]], [2, 1, 3])
    assert m["Mean of our per-sample losses"] == f"{batch.mean:.4f}"
    torch_mean = nn.CrossEntropyLoss()(batch.logits, batch.labels).item()
    assert m["nn.CrossEntropyLoss() on the batch"] == f"{torch_mean:.4f}" == m["Mean of our per-sample losses"]


def test_editing_logits_target_and_temperature():
    at = run_app("en", PAGE)
    at.text_input(key="sm_logits").set_value("0.5, 3, -1, 2").run()
    at.number_input(key="sm_target").set_value(3).run()
    at.slider(key="sm_temp").set_value(2.0).run()
    assert not at.exception and not at.error
    ce = cross_entropy_breakdown([0.5, 3.0, -1.0, 2.0], 3, 2.0)
    assert metrics(at)["Loss, step by step"] == f"{ce.loss:.4f}"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("text, target, needle", [
    ("", 0, {"en": "at least two", "zh": "至少"}),
    ("1, two", 0, {"en": "\"two\" is not a number", "zh": "不是一个数"}),
    ("1, nan", 0, {"en": "finite", "zh": "有限"}),
    ("1, 1e999", 0, {"en": "finite", "zh": "有限"}),
    ("1", 0, {"en": "between 2 and 10", "zh": "2 到 10"}),
    ("1, 2, 3", 5, {"en": "between 0 and 2", "zh": "0 到 2"}),
])
def test_bad_input_is_a_translated_message(lang, text, target, needle):
    at = run_app(lang, PAGE)
    at.text_input(key="sm_logits").set_value(text)
    at.number_input(key="sm_target").set_value(target).run()
    assert not at.exception
    assert any(needle[lang] in e.value for e in at.error), [e.value for e in at.error]
    assert at.metric  # the rest of the page (batch) still works


@pytest.mark.parametrize("lang, needle", [("en", "finite"), ("zh", "有限")])
def test_logits_overflowing_once_divided_by_temperature(lang, needle):
    at = run_app(lang, PAGE)
    at.text_input(key="sm_logits").set_value("1e308, 0")
    at.slider(key="sm_temp").set_value(0.5).run()  # 1e308 / 0.5 is infinite in float64
    assert not at.exception
    assert any(needle in e.value for e in at.error), [e.value for e in at.error]


def test_example_button_loads_huge_logits():
    at = run_app("en", PAGE)
    at.button[1].click().run()
    assert not at.exception and not at.error
    assert at.text_input(key="sm_logits").value == "1000, 0, -1000"
    assert metrics(at)["p[class 0]"] == "1.0000"


def test_underflow_note_and_finite_loss():
    at = run_app("en", PAGE)
    at.text_input(key="sm_logits").set_value("1000, 0, -1000")
    at.number_input(key="sm_target").set_value(2).run()
    assert not at.exception and not at.error
    assert metrics(at)["Loss, step by step"] == "2000.0000" == metrics(at)["nn.CrossEntropyLoss()"]
    assert "rounds to exactly 0" in page_text(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_why_not_mse_shows_cores_gradients(lang):
    at = run_app(lang, PAGE)
    assert not at.exception
    sweep = ce_vs_mse([2.0, 1.0, 0.1], 0)
    ce, mse = f"{float(sweep.ce_grad[0]):.4f}", f"{float(sweep.mse_grad[0]):.2e}"
    assert any(f"**{ce}**" in m.value and f"**{mse}**" in m.value for m in at.markdown)
    assert float(ce) < -0.99 and abs(float(mse)) < 1e-3  # the lesson the text draws


def charts(at) -> list[dict]:
    import json

    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_every_chart_names_its_axes():
    at = run_app("en", PAGE)
    bars, mse = charts(at)
    lay = bars["layout"]
    assert [lay[f"xaxis{s}"]["title"]["text"] for s in ("", "2", "3")] == ["class"] * 3
    assert [lay[f"yaxis{s}"]["title"]["text"] for s in ("", "2", "3")] == ["z ÷ T", "exp(z ÷ T − max)", "probability"]
    ce = cross_entropy_breakdown([2.0, 1.0, 0.1], 0)
    assert bars["data"][2]["y"] == pytest.approx(ce.softmax.probs.tolist(), rel=1e-5)
    assert mse["layout"]["yaxis2"]["type"] == "log" and mse["layout"]["yaxis"]["title"]["text"] == "loss"
    assert mse["layout"]["xaxis"]["title"]["text"] == "logit of the true class 0"


def quiz_lines(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("1. Subtract") or m.value.startswith("1. 每个")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_your_turn_checks_the_answer_with_the_tolerance_then_shows_the_steps(lang):
    from core.quiz import make_question

    q = make_question("cross_entropy", 7)
    at = run_app(lang, PAGE, query={"sm_quiz": "7"}, params={"sm_quiz": 7})
    assert not at.exception and not at.error
    logits = ", ".join(f"{v:g}" for v in q.settings["logits"])
    assert any(f"**[{logits}]**" in m.value for m in at.markdown)  # the question of seed 7
    assert not quiz_lines(at)  # the steps wait for an answer
    at.number_input(key="sm_quiz_guess_7").set_value(round(q.answer, 2)).run()  # two decimals count as right
    assert len(at.success) == 1 and f"{q.answer:.4f}" in at.success[0].value
    steps = quiz_lines(at)
    assert len(steps) == 1 and steps[0].rstrip("*").endswith(f"{q.answer:.4f}")
    at.number_input(key="sm_quiz_guess_7").set_value(round(q.answer + 0.05, 2)).run()
    assert not at.success and any(f"{q.answer:.4f}" in w.value for w in at.warning)
    assert ("Not quite" in at.warning[0].value) == (lang == "en")


def test_your_turn_reveal_and_a_new_question():
    from core.quiz import make_question

    at = run_app("en", PAGE)
    q = make_question("cross_entropy", 1)  # the default question number
    at.button(key="sm_quiz_show_1_button").click().run()
    assert quiz_lines(at) and f"**{q.answer:.4f}**" in quiz_lines(at)[0]
    new = next(b for b in at.button if b.label == "Another question")
    new.click().run()
    seed = at.number_input(key="sm_quiz").value
    assert seed != 1 and not quiz_lines(at)
    logits = ", ".join(f"{v:g}" for v in make_question("cross_entropy", seed).settings["logits"])
    assert any(f"**[{logits}]**" in m.value for m in at.markdown)
