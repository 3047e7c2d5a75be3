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


def chart(at, i: int) -> dict:
    """Chart i of the page (0 f and f', 1 vanishing gradients, 2 feature map, 3 dead ReLUs) as its dict."""
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def norms(fig: dict, name: str) -> torch.Tensor:
    """The per-layer gradient norms of one activation's line in the vanishing-gradient chart."""
    return torch.tensor(next(tr["y"] for tr in fig["data"] if tr["name"] == name))


def test_depth_slider_moves_the_measured_gradients():
    at = run_app("en", PAGE)
    at.slider(key="act_depth").set_value(5).run()
    assert not at.exception
    data = cache.digits()
    want = stack_gradients(deep_stack("tanh", 5, init="matched"), to_model_input(data.test_images[:64]).flatten(1),
                           data.test_labels[:64])
    got = norms(chart(at, 1), "Tanh")
    assert len(got) == 5
    torch.testing.assert_close(got, want.weight_grad_norm, rtol=1e-3, atol=0)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_by_default_each_activation_has_its_matching_init_and_only_sigmoid_vanishes(lang):
    """Issue 15: the default shows ReLU (Kaiming) and tanh (Xavier) keeping their gradient within 10x across 12
    layers and sigmoid vanishing, and the text names initialisation as the reason."""
    at = run_app(lang, PAGE)
    fig = chart(at, 1)
    names = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"} if lang == "en" else {}
    if lang == "zh":
        from conftest import translated
        names = {n: translated("zh", f"act.name_{n}") for n in ("relu", "tanh", "sigmoid")}
    for n in ("relu", "tanh"):
        g = norms(fig, names[n])
        assert len(g) == 12
        assert 0.1 <= float(g[0] / g[-1]) <= 10 and float(g.max() / g.min()) <= 10, n
    sigmoid = norms(fig, names["sigmoid"])
    assert float(sigmoid[0] / sigmoid[-1]) < 1e-4  # vanishing: about 1e-6 here
    story = next(i.value for i in at.info if ("Kaiming" in i.value))
    assert ("initialisation" in story) == (lang == "en") and ("初始化" in story) == (lang == "zh")
    assert "Xavier" in story
    table = at.dataframe[-1].value.to_dict("records")
    col = "Initialisation" if lang == "en" else "初始化"
    assert [r[col] for r in table] == (["Kaiming", "Xavier", "Xavier"])


def test_a_shared_init_shows_the_contrast_and_explains_the_training_lab():
    at = run_app("en", PAGE)
    at.segmented_control(key="act_init").set_value("default").run()
    assert not at.exception
    relu = norms(chart(at, 1), "ReLU")
    assert float(relu[0] / relu[-1]) < 0.01  # ReLU's first layers get almost no gradient under PyTorch's default
    story = next(i.value for i in at.info if "PyTorch's default" in i.value)
    assert "initialisation" in story and "tanh can lead after the first epoch" in story
    data = cache.digits()
    want = stack_gradients(deep_stack("relu", 12, init="default"), to_model_input(data.test_images[:64]).flatten(1),
                           data.test_labels[:64])
    torch.testing.assert_close(relu, want.weight_grad_norm, rtol=1e-3, atol=0)


def test_every_chart_names_its_axes_and_pictures_hide_theirs():
    at = run_app("en", PAGE)
    f = chart(at, 0)["layout"]
    assert f["xaxis"]["title"]["text"] == "x" and f["yaxis"]["title"]["text"] == "f(x) (solid) and f′(x) (dotted)"
    fmap = chart(at, 2)["layout"]
    assert fmap["xaxis3"]["title"]["text"] == "value" and fmap["yaxis3"]["title"]["text"] == "number of values"
    assert not fmap["xaxis"]["showticklabels"] and not fmap["yaxis2"]["showticklabels"]  # the maps are pictures
    dead = chart(at, 3)["layout"]
    assert dead["yaxis"]["title"]["text"] == "share of dead units"


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


def test_a_tiny_network_s_feature_maps_offer_its_two_channels(monkeypatch):
    """A run of the 'tiny' design (2 conv1 channels) on the feature-map section: a link asking for channel 6 shows
    channel 2 instead of failing, and the run is named in the page's language."""
    from core.lenet import LeNetConfig, apply_preset, build_lenet
    from core.training import TrainConfig

    config = TrainConfig(activation="relu", conv1_channels=apply_preset(LeNetConfig(), "tiny").conv1_channels,
                         conv2_channels=apply_preset(LeNetConfig(), "tiny").conv2_channels, epochs=3)
    model = build_lenet(config.lenet, seed=4).eval()
    monkeypatch.setattr(cache, "trained_models", lambda: {config.run_label: model})
    monkeypatch.setattr(cache, "trained_configs", lambda: {config.run_label: config})
    at = run_app("zh", PAGE, params={"act_model": config.run_label, "act_channel": 6})
    assert not at.exception, at.exception
    assert at.slider(key="act_channel").max == 2 and at.slider(key="act_channel").value == 2
    options = at.selectbox(key="act_model").options  # as the page formats them
    assert any("3 轮" in o for o in options) and config.run_label not in options, options
