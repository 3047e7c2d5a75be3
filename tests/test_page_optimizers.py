"""The optimizer page in AppTest, both languages: shown numbers are core's; bad settings are messages, not crashes."""
import re

import pytest
import torch

from conftest import page_text, run_app
from core.minibatch_noise import digit_features, minibatch_path
from core.optim_paths import optimizer_path
from lab.cache import embedded_digits
from lab.snippets.optimizers import path_script

PAGE = "app_pages/optimizers.py"
HAN = re.compile(r"[\u4e00-\u9fff]")


def race_table(at):
    """The table under the race charts (the first dataframe) as a list of row dicts."""
    return at.dataframe[0].value.to_dict("records")


def theta(path, k: int) -> str:
    return f"({path.positions[k, 0]:.4f}, {path.positions[k, 1]:.4f})".replace("-0.0000", "0.0000")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(lang):
    at = run_app(lang, PAGE)
    assert not at.exception and not at.error
    assert bool(HAN.search(page_text(at))) == (lang == "zh")
    assert len(at.get("plotly_chart")) == 4  # race map, race losses, noise map, noise losses
    want = ["Inside the optimizer", "Mini-batch noise on real digits"] if lang == "en" else ["优化器内部",
                                                                                          "真实手写数字上的小批量噪声"]
    assert [e.value for e in at.header][:2] == want


def test_default_race_shows_core_positions_and_a_log_loss_axis():
    at = run_app("en", PAGE)
    rows = race_table(at)
    sgd = optimizer_path("rosenbrock", "sgd", (-1.5, 2.0), 500, lr=1e-3)
    adam = optimizer_path("rosenbrock", "adam", (-1.5, 2.0), 500, lr=0.05)
    assert rows[0]["θ = (x, y)"] == theta(sgd, 500) and rows[2]["θ = (x, y)"] == theta(adam, 500)
    assert rows[2]["loss"] == f"{adam.losses[500]:.4g}"
    import json

    loss_fig = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert loss_fig["layout"]["yaxis"]["type"] == "log"


def test_moving_the_step_slider_and_the_learning_rate():
    at = run_app("en", PAGE)
    at.slider(key="opt_at").set_value(40).run()
    rows = race_table(at)
    momentum = optimizer_path("rosenbrock", "momentum", (-1.5, 2.0), 500, lr=1e-3)
    assert rows[1]["step"] == 40 and rows[1]["θ = (x, y)"] == theta(momentum, 40)
    at.number_input(key="opt_lr0").set_value(0.002).run()
    assert not at.exception and not at.error
    sgd = optimizer_path("rosenbrock", "sgd", (-1.5, 2.0), 500, lr=0.002)
    assert race_table(at)[0]["θ = (x, y)"] == theta(sgd, 40)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_too_large_learning_rate_preset_reports_the_divergence_step(lang):
    if lang == "en":
        at = run_app(lang, PAGE)
        at.segmented_control(key="opt_preset").set_value("too_big").run()
    else:  # AppTest formats option labels outside the script (in English), so later runs fail in zh: set it up front
        at = run_app(lang, PAGE, params={"opt_preset": "too_big"})
    assert not at.exception and not at.error
    path = optimizer_path("bowl", "sgd", (-4.5, 2.0), 100, lr=0.55)
    assert path.reason == "far_away" and path.diverged_at is not None
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and re.search(rf"(?<![\d.]){path.diverged_at}(?!\d)", warnings[0])
    assert ("diverged" in warnings[0]) == (lang == "en")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("lr", [0.0, -0.01, float("nan")])
def test_nonsense_learning_rate_is_a_translated_message(lang, lr):
    at = run_app(lang, PAGE, params={"opt_lr1": lr})
    assert not at.exception
    assert len(at.error) == 1
    assert ("learning rate must be a positive number" in at.error[0].value) == (lang == "en")
    assert ("学习率必须是正数" in at.error[0].value) == (lang == "zh")
    assert len(at.get("plotly_chart")) == 4  # racers 1 and 3 still race, the mini-batch section still works
    assert [r["optimizer"] if lang == "en" else r["优化器"] for r in race_table(at)] == (
        ["1. SGD (lr=0.001)", "3. Adam (lr=0.05)"])


def test_bad_beta_is_a_message():
    at = run_app("en", PAGE)
    at.number_input(key="opt_beta12_adam").set_value(1.0).run()
    assert not at.exception and "β1" not in at.error[0].value and "beta1 must be between 0 and 1" in at.error[0].value


def test_inside_panel_shows_adams_state():
    at = run_app("en", PAGE)
    at.selectbox(key="opt_inside").set_value(2).run()  # racer 3: Adam, lr 0.05
    rows = at.dataframe[1].value.to_dict("records")
    adam = optimizer_path("rosenbrock", "adam", (-1.5, 2.0), 500, lr=0.05)
    for k in range(5):
        m, v = adam.state["exp_avg"][k], adam.state["exp_avg_sq"][k]
        assert rows[k]["m"] == f"({m[0]:.4g}, {m[1]:.4g})" and rows[k]["v"] == f"({v[0]:.4g}, {v[1]:.4g})"
        assert rows[k]["1 − β1ᵗ"] == f"{1 - 0.9 ** (k + 1):.4g}"
    code = at.get("code")[0].proto.code_text
    assert "import torch" in code and "torch.optim.Adam(" in code
    latex = " ".join(e.proto.body.strip("$\n") for e in at.latex)
    assert latex.endswith(f"= {adam.positions[1, 0].item():.6g}")
    assert f"m_1 = 0.9\\cdot 0 + (1-0.9)\\cdot({adam.grads[0, 0].item():.4g})" in latex


def test_weight_decay_in_more_settings_enters_the_formula():
    at = run_app("en", PAGE)
    at.number_input(key="opt_weight_decay1_momentum").set_value(0.5).run()
    assert not at.exception and not at.error
    at.selectbox(key="opt_inside").set_value(1).run()
    path = optimizer_path("rosenbrock", "momentum", (-1.5, 2.0), 500, lr=1e-3, weight_decay=0.5)
    latex = [e.proto.body.strip("$\n") for e in at.latex]
    g, x0 = path.grads[0, 0].item(), path.positions[0, 0].item()
    assert latex[0] == f"g' = g + \\lambda\\theta_x = {g:.4g} + 0.5\\cdot({x0:.4g}) = {g + 0.5 * x0:.4g}"
    assert latex[-1].endswith(f"= {path.positions[1, 0].item():.6g}")
    assert race_table(at)[1]["θ = (x, y)"] == theta(path, 500)


def test_noise_section_matches_core():
    at = run_app("en", PAGE)
    at.select_slider(key="opt_batch").set_value(16).run()
    at.slider(key="opt_blr").set_value(0.3).run()
    assert not at.exception and not at.error
    data = embedded_digits()
    feats, y = digit_features(data.train_images, data.train_labels, (1, 7))
    small = minibatch_path(feats, y, 16, 150, 0, "sgd", lr=0.3)
    full = minibatch_path(feats, y, len(y), 150, 0, "sgd", lr=0.3)
    caption = next(c.value for c in at.caption if "digit gradients" in c.value)
    assert f"{small.full_losses[-1]:.4f}" in caption and f"{full.full_losses[-1]:.4f}" in caption
    assert "2,400 digit gradients" in caption and f"{150 * len(y):,} digit gradients" in caption


def test_snippet_reproduces_core():
    for name, hp in [("sgd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3, "momentum": 0.8}), ("adam", {"lr": 0.05}),
                     ("nesterov", {"lr": 1e-3}), ("rmsprop", {"lr": 0.01})]:
        path = optimizer_path("rosenbrock", name, (-1.5, 2.0), 60, **hp)
        scope: dict = {}
        exec(compile(path_script("rosenbrock", name, path.hyperparams, (-1.5, 2.0), 60), "<snippet>", "exec"), scope)
        torch.testing.assert_close(torch.tensor(scope["result"], dtype=torch.float64), path.positions[-1])


def test_map_traces_are_cores_paths_up_to_the_step():
    import json

    at = run_app("en", PAGE)
    at.slider(key="opt_at").set_value(7).run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    lines = [tr for tr in spec["data"] if tr.get("mode") == "lines+markers"]
    sgd = optimizer_path("rosenbrock", "sgd", (-1.5, 2.0), 7, lr=1e-3)
    assert len(lines) == 3 and len(lines[0]["x"]) == 8
    assert lines[0]["x"][-1] == pytest.approx(sgd.positions[-1, 0].item())
    assert lines[0]["y"][-1] == pytest.approx(sgd.positions[-1, 1].item())


def test_nesterov_without_momentum_is_a_message_under_its_racer():
    at = run_app("en", PAGE)
    at.selectbox(key="opt_o1").set_value("nesterov").run()
    at.number_input(key="opt_momentum1_nesterov").set_value(0.0).run()
    assert not at.exception and len(at.error) == 1
    assert "Nesterov momentum needs a momentum μ above 0" in at.error[0].value
    assert len(race_table(at)) == 2
