"""Optimizer page in AppTest: both languages, presets, moving controls, bad learning rates from the URL."""
from __future__ import annotations

import json

import pytest
import torch
from conftest import page_text, run_app

from core.optim_paths import optimizer_path, race
from lab.snippets.optimizers import path_script

PAGE = "app_pages/optimizers.py"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(lang):
    at = run_app(lang, page=PAGE)
    assert not at.exception
    text = page_text(at)
    assert ("优化器" in text) == (lang == "zh")
    assert len(at.get("plotly_chart")) >= 3


def test_default_preset_paths_are_cores():
    at = run_app("en", page=PAGE)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    lines = [tr for tr in spec["data"] if tr.get("mode") == "lines+markers"]
    expected = race("rosenbrock", [("sgd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3}), ("adam", {"lr": 0.05})],
                    (-1.5, 2.0), 500)
    assert len(lines) == 3
    for tr, path in zip(lines, expected):
        assert tr["x"][-1] == pytest.approx(path.positions[-1, 0].item())
        assert tr["y"][-1] == pytest.approx(path.positions[-1, 1].item())


def test_step_slider_moves_the_dots():
    at = run_app("en", page=PAGE)
    at.slider(key="opt_at").set_value(7).run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    first = [tr for tr in spec["data"] if tr.get("mode") == "lines+markers"][0]
    sgd = optimizer_path("rosenbrock", "sgd", (-1.5, 2.0), 7, lr=1e-3)
    assert len(first["x"]) == 8 and first["x"][-1] == pytest.approx(sgd.positions[-1, 0].item())


def test_too_large_preset_warns_with_the_step():
    at = run_app("zh", page=PAGE, params={"opt_preset": "too_big"})
    assert not at.exception
    assert any("发散" in w.value for w in at.warning)


@pytest.mark.parametrize("lr", [-0.1, 0.0, float("nan")])
def test_bad_learning_rate_gives_a_message_not_a_crash(lr):
    at = run_app("en", page=PAGE)
    at.number_input(key="opt_lr0").set_value(lr).run()
    assert not at.exception
    assert any("learning rate must be a positive number" in e.value for e in at.error)
    assert len(at.get("plotly_chart")) >= 1  # the mini-batch part still works


def test_batch_size_control_changes_the_noisy_path():
    at = run_app("en", page=PAGE)
    at.select_slider(key="opt_batch").set_value(64).run()
    assert not at.exception
    assert any("batch of 64" in str(c.proto.spec) for c in at.get("plotly_chart"))


def test_code_panel_reproduces_the_first_racer():
    path = optimizer_path("rosenbrock", "momentum", (-1.5, 2.0), 120, lr=1e-3)
    scope: dict = {}
    exec(path_script("rosenbrock", "momentum", path.hyperparams, (-1.5, 2.0), 120), scope)  # noqa: S102
    torch.testing.assert_close(torch.tensor(scope["result"], dtype=torch.float64), path.positions[-1])
