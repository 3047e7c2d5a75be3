"""The pitfalls lab in AppTest, both languages: tiny correct/buggy pairs train in the background job manager and the
page shows their numbers; the probes equal core's. run_every fragments do not fire in AppTest, so tests wait for the
jobs themselves and rerun the page."""
import re

import pytest

import support
from conftest import page_text, run_app
from core.pitfalls import BASE, PITFALLS, grad_norms, pitfall_pair, repeated_test, softmax_loss_floor
from lab import cache

PAGE = "app_pages/pitfalls.py"
TINY = {"pf_epochs": 1, "pf_n": 500}
HAN = re.compile(r"[\u4e00-\u9fff]")


pytestmark = pytest.mark.usefixtures("fresh_manager")  # a job manager of our own (conftest)


def wait_done(config, timeout: float = 90):
    """The app's run of `config` once it has finished."""
    return support.wait_done(cache.manager(), config, timeout)


@pytest.mark.parametrize("which", PITFALLS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_pitfall_page_runs(lang, which):
    at = run_app(lang, page=PAGE, params={"pf_which": which})
    assert not at.exception, at.exception
    assert bool(HAN.search(page_text(at))) == (lang == "zh")
    assert len(at.get("progress")) == 2 and len(at.code) >= 3  # correct / buggy lines and the code panel


@pytest.mark.slow  # trains in the app's worker processes
def test_no_zero_grad_pair_trains_and_shows_results(digits):
    at = run_app("en", page=PAGE, params={**TINY, "pf_which": "no_zero_grad", "pf_seed": 5})
    correct, wrong = pitfall_pair("no_zero_grad", BASE.but(epochs=1, train_size=500, seed=5))
    assert cache.manager().view(correct) is None
    at.button(key="pf_start").click().run()
    assert not at.exception
    views = [wait_done(correct), wait_done(wrong)]
    at.run()
    table = at.dataframe[0].value
    assert list(table["Test accuracy"]) == [f"{v.epochs[-1].test_acc:.1%}" for v in views]
    assert "Done: test accuracy" in at.get("progress")[0].proto.text
    assert "goes wrong as soon as gradients pile up" in page_text(at)
    probe = at.get("plotly_chart")[-1]
    import json
    traces = json.loads(probe.proto.spec)["data"]
    want = grad_norms(digits.train_images, digits.train_labels, False, 20, seed=5)
    assert traces[1]["y"] == pytest.approx(want)


@pytest.mark.slow  # trains in the app's worker processes
def test_no_eval_probe_uses_the_trained_buggy_model(digits):
    params = {**TINY, "pf_which": "no_eval", "pf_drop": 0.6, "pf_seed": 2}
    at = run_app("en", page=PAGE, params=params)
    assert "Run both trainings first" in page_text(at)
    at.button(key="pf_start").click().run()
    correct, wrong = pitfall_pair("no_eval", BASE.but(epochs=1, train_size=500, seed=2, dropout=0.6))
    assert wrong.mistake == "no_eval" and wrong.dropout == 0.6
    wait_done(correct)
    view = wait_done(wrong)
    at.run()
    scores = repeated_test(view.done.model, digits.test_images, digits.test_labels)
    text = page_text(at)
    assert "With `model.eval()`: " + ", ".join(f"{s:.1%}" for s in scores.with_eval) in text
    assert ", ".join(f"{s:.1%}" for s in scores.without_eval) in text


def test_softmax_floor_and_adam_relu_settings():
    at = run_app("en", page=PAGE, params={"pf_which": "softmax_before_loss", "pf_opt": "adam", "pf_act": "relu"})
    assert not at.exception
    assert f"{softmax_loss_floor():.4f}" in page_text(at)
    assert "relu, Adam (learning rate 0.001)" in page_text(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_call_order_probe_shows_core_numbers(lang, digits):
    import json

    from core.pitfalls import call_order_run

    at = run_app(lang, page=PAGE, params={"pf_which": "call_order", "pf_order": "szb", "pf_opt": "adam", "pf_seed": 1},
                 timeout=180)
    assert not at.exception, at.exception
    assert bool(HAN.search(page_text(at))) == (lang == "zh") and not at.get("progress")  # no background runs
    cfg = BASE.but(optimizer="adam", lr=1e-3, seed=1)
    good = call_order_run(digits.train_images, digits.train_labels, "zbs", cfg, 40, 32)
    bad = call_order_run(digits.train_images, digits.train_labels, "szb", cfg, 40, 32)
    traces = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"]
    assert traces[0]["y"] == pytest.approx(list(good.losses)) and traces[1]["y"] == pytest.approx(list(bad.losses))
    assert at.error and "inplace" in at.error[0].value
    used = list(at.dataframe[0].value.iloc[:, 1])
    assert used[1] == ("batch 1" if lang == "en" else "第 1 个批次") and used[2] == "–"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_accumulation_probe_shows_core_numbers(lang, digits):
    from core.pitfalls import accumulation

    at = run_app(lang, page=PAGE, params={"pf_which": "accumulation", "pf_k": 3, "pf_act": "relu"}, timeout=180)
    assert not at.exception, at.exception
    a = accumulation(digits.train_images, digits.train_labels, 3, BASE.but(activation="relu"), 16, 3)
    shown = [m.value for m in at.metric]
    assert shown == [f"{a.difference:.1e}", f"{a.ratio:.3f}", f"{a.weight_gap:.1e}", f"{a.weight_gap_undivided:.1e}"]
    assert "/ 3" in at.code[0].value and f"{a.ratio:.3f}" in page_text(at)
