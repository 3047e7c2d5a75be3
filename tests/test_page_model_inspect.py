"""The inspect page in AppTest: no model yet, then a tiny trained model's numbers as core computes them."""
import base64
import json
import re

import numpy as np
import pytest

import support
from conftest import page_text, run_app
from core.model_inspect import confusion_matrix, per_class_accuracy, predict
from core.training import TrainConfig
from lab import cache

PAGE = "app_pages/model_inspect.py"
HAN = re.compile(r"[\u4e00-\u9fff]")
CFG = TrainConfig(train_size=300, epochs=1, seed=21)


def values(v) -> list:
    """A Plotly data array, whether a plain list or Plotly's typed-array encoding."""
    if isinstance(v, dict) and "bdata" in v:
        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        return arr.reshape([int(n) for n in str(v.get("shape", len(arr))).split(",")]).tolist()
    return list(v)


pytestmark = pytest.mark.usefixtures("fresh_manager")  # a job manager of our own (conftest)


@pytest.fixture(scope="module")
def trained(fresh_manager):
    mgr = cache.manager()
    mgr.submit(CFG)
    view = support.wait_done(mgr, CFG, 60)
    assert view.usable
    return view


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_models_it_says_so(lang):
    at = run_app(lang, page=PAGE)
    assert not at.exception
    assert len(at.info) == 1
    assert bool(HAN.search(page_text(at))) == (lang == "zh")


@pytest.mark.slow  # a model trained in the app's worker processes
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_trained_model_numbers_match_core(trained, lang):
    at = run_app(lang, page=PAGE, params={"insp_runs": [trained.key]})
    assert not at.exception, at.exception
    data = cache.embedded_digits()
    preds = predict(trained.done.model, data.test_images, data.test_labels)
    assert at.metric[0].value == f"{preds.accuracy:.1%}"
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    cm = confusion_matrix(preds.labels, preds.predicted)
    assert values(charts[0]["data"][0]["z"]) == cm.tolist()
    per_class = values(charts[1]["data"][0]["y"])
    assert per_class == pytest.approx(per_class_accuracy(cm).tolist())
    assert bool(HAN.search(page_text(at))) == (lang == "zh")


@pytest.mark.slow  # a model trained in the app's worker processes
def test_digit_slider_moves_the_feature_maps(trained):
    at = run_app("en", page=PAGE, params={"insp_runs": [trained.key]})
    data = cache.embedded_digits()
    preds = predict(trained.done.model, data.test_images, data.test_labels)
    at.slider(key="insp_digit").set_value(5).run()
    truth, said = int(preds.labels[5]), int(preds.predicted[5])
    assert any(f"This is a {truth}; the model says {said}" in c.value for c in at.caption)
    assert not at.exception


@pytest.mark.slow  # a model trained in the app's worker processes
def test_trained_model_is_offered_by_default_and_for_other_pages(trained):
    at = run_app("en", page=PAGE)  # no link: the newest trained runs are chosen
    assert at.multiselect(key="insp_runs").value == [trained.key]
    assert CFG.run_label in cache.trained_models()


@pytest.mark.slow  # a model trained in the app's worker processes
def test_unknown_key_in_the_link_is_ignored(trained):
    at = run_app("en", page=PAGE, params={"insp_runs": ["ffffffffffffffff"]})
    assert not at.exception
    assert at.multiselect(key="insp_runs").value == []
    assert "Choose at least one run" in page_text(at)
