"""The activations page in AppTest, both languages: no exception, and shown numbers are core's numbers."""
import json
import re

import pytest
import torch

from conftest import page_text, run_app
from core.activations import deep_stack, evaluate, stack_gradients
from core.data import to_model_input
from lab import cache

PAGE = "app_pages/activations.py"
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs(lang):
    at = run_app(lang, PAGE)
    assert not at.exception
    text = page_text(at)
    assert bool(HAN.search(text)) == (lang == "zh")
    assert len(at.get("plotly_chart")) >= 4


def test_course_values_shown():
    at = run_app("en", PAGE)
    frames = [df.value for df in at.dataframe]
    tanh = next(f for f in frames if "f(x)" in f.columns and f["x"].tolist() == [-2.0, 0.0, 2.0])
    assert tanh["f(x)"].tolist() == [f"{v:.4f}" for v in evaluate("tanh", [-2.0, 0.0, 2.0]).y.tolist()]
    assert tanh["f(x)"].tolist() == ["-0.9640", "0.0000", "0.9640"]
    relu = next(f for f in frames if "f(x)" in f.columns and f["x"].tolist() == [-3.0, 0.0, 2.0])
    assert relu["f(x)"].tolist() == ["0.0000", "0.0000", "2.0000"]


def test_depth_slider_moves_the_measured_gradients():
    at = run_app("en", PAGE)
    at.slider(key="act_depth").set_value(5).run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[2].proto.spec)
    data = cache.digits()
    want = stack_gradients(deep_stack("tanh", 5), to_model_input(data.test_images[:64]).flatten(1), data.test_labels[:64])
    tanh = fig["data"][0]
    assert len(tanh["x"]) == 5
    ys = tanh["y"]
    if isinstance(ys, dict):  # plotly's typed-array encoding
        import base64
        import numpy as np
        ys = np.frombuffer(base64.b64decode(ys["bdata"]), dtype=ys["dtype"]).tolist()
    torch.testing.assert_close(torch.tensor(ys), want.weight_grad_norm, rtol=1e-4, atol=0)


def test_slope_slider_changes_leaky_curve():
    at = run_app("en", PAGE, params={"act_set": ["leaky_relu"]})
    at.slider(key="act_slope").set_value(0.3).run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(fig["data"]) == 2  # f and f' of leaky ReLU only


def test_bias_shift_kills_units_as_core_says():
    from core.activations import lenet_dead_fraction
    from core.lenet import LeNetConfig

    at = run_app("en", PAGE)
    at.slider(key="act_shift").set_value(-2.0).run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[3].proto.spec)
    want = lenet_dead_fraction(cache.untrained_lenet(LeNetConfig(activation="relu")),
                               to_model_input(cache.digits().test_images[:256]), bias_shift=-2.0)
    assert fig["data"][0]["text"] == [f"{v:.1%}" for v in want.values()]
    assert "untrained ReLU LeNet-5" in page_text(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_prelu_shows_its_learned_slope_and_gradient(lang):
    from core.activations import prelu_alpha_grad

    at = run_app(lang, PAGE, params={"act_set": ["prelu", "relu"], "act_slope": 0.2, "act_range": 4.0})
    assert not at.exception
    _, grad = prelu_alpha_grad(torch.linspace(-4.0, 4.0, 401), init=0.2)
    assert any(f"**{grad:.4g}**" in i.value and "PReLU" in i.value for i in at.info)
