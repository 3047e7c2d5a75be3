"""The optimizer page in AppTest, both languages: shown numbers are core's; bad settings are messages, not crashes.
The race is one figure that steps in the browser (Plotly frames): these tests read its dict."""
import json
import re

import pytest
import torch

from conftest import page_text, run_app
from core.minibatch_noise import digit_features, minibatch_path
from core.optim_paths import optimizer_path
from lab.cache import embedded_digits
from lab.snippets.optimizers import path_script
from lab.views.optimizers import FRAMES, RECENT

PAGE = "app_pages/optimizers.py"
HAN = re.compile(r"[\u4e00-\u9fff]")
TRAILS, HEADS = slice(3, 6), slice(9, 12)  # trace indices in the race figure (after the colour bar, minima, start)


def race(at) -> dict:
    """The race figure's dict (the first chart)."""
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def readout(spec: dict) -> list[str]:
    """The numbers at the step the figure opens at, one line per racer (the last trace)."""
    return spec["data"][-1]["text"]


def legend_names(spec: dict) -> list[str]:
    """The racers named in the legend (their trails on the map)."""
    return [tr["name"] for tr in spec["data"] if tr.get("mode") == "lines" and "xaxis" not in tr]


def inside_chooser(at):
    """The 'inside the optimizer' chooser (its key changes with its labels)."""
    return next(w for w in at.button_group if (w.key or "").startswith("opt_inside_"))


def theta(path, k: int) -> str:
    return f"({path.positions[k, 0]:.4f}, {path.positions[k, 1]:.4f})".replace("-0.0000", "0.0000")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(lang):
    at = run_app(lang, PAGE)
    assert not at.exception and not at.error
    assert bool(HAN.search(page_text(at))) == (lang == "zh")
    assert len(at.get("plotly_chart")) == 3  # the race (map, losses, numbers in one figure), noise map, noise losses
    want = ["Inside the optimizer", "Mini-batch noise on real digits"] if lang == "en" else ["优化器内部",
                                                                                          "真实手写数字上的小批量噪声"]
    assert [e.value for e in at.header][:2] == want


def test_default_race_opens_at_the_last_step_with_cores_numbers():
    at = run_app("en", PAGE)
    spec = race(at)
    sgd = optimizer_path("rosenbrock", "sgd", (-1.5, 2.0), 500, lr=1e-3)
    adam = optimizer_path("rosenbrock", "adam", (-1.5, 2.0), 500, lr=0.05)
    lines = readout(spec)
    assert lines[0] == f"1: θ = {theta(sgd, 500)}<br>loss {sgd.losses[500]:.4g}"
    assert lines[2] == f"3: θ = {theta(adam, 500)}<br>loss {adam.losses[500]:.4g}"
    assert spec["data"][11]["x"][0] == pytest.approx(adam.positions[500, 0].item(), abs=1e-6)
    assert spec["layout"]["yaxis2"]["type"] == "log"
    slider = spec["layout"]["sliders"][0]
    assert slider["steps"][slider["active"]]["args"][0] == ["500"] and len(spec["frames"]) == FRAMES + 1
    assert legend_names(spec) == ["1. SGD (lr=0.001)", "2. SGD + momentum (lr=0.001)", "3. Adam (lr=0.05)"]
    assert spec["layout"]["title"]["text"] == "Different learning rates: η₁ = 0.001 · η₂ = 0.001 · η₃ = 0.05"


def test_every_axis_is_named_and_the_map_has_a_colour_scale():
    spec = race(run_app("en", PAGE))
    lay = spec["layout"]
    assert [lay[a]["title"]["text"] for a in ("xaxis", "yaxis", "xaxis2", "yaxis2")] == [
        "x (first parameter)", "y (second parameter)", "step", "loss (log scale)"]
    bar = spec["data"][0]["marker"]
    assert bar["showscale"] and bar["colorbar"]["title"]["text"] == "log₁₀ of the loss"
    assert lay["images"][0]["source"].startswith("data:image/png;base64,")  # the map: sent once, never in a frame
    assert all(0 not in f["traces"] for f in spec["frames"])


def test_a_link_opens_at_the_step_it_names():
    at = run_app("en", PAGE, query={"opt_step": "40"})
    spec = race(at)
    momentum = optimizer_path("rosenbrock", "momentum", (-1.5, 2.0), 500, lr=1e-3)
    assert readout(spec)[1].startswith(f"2: θ = {theta(momentum, 40)}")
    slider = spec["layout"]["sliders"][0]
    assert slider["steps"][slider["active"]]["args"][0] == ["40"]
    at.number_input(key="opt_lr0").set_value(0.002).run()
    assert not at.exception and not at.error
    sgd = optimizer_path("rosenbrock", "sgd", (-1.5, 2.0), 500, lr=0.002)
    assert readout(race(at))[0].startswith(f"1: θ = {theta(sgd, 40)}")
    at = run_app("en", PAGE, query={"opt_at": "7"})  # the key older links use
    assert readout(race(at))[0].startswith(f"1: θ = {theta(optimizer_path('rosenbrock', 'sgd', (-1.5, 2.0), 7, lr=1e-3), 7)}")


@pytest.mark.parametrize("step", [7, 250])
def test_frames_hold_cores_path_up_to_their_step(step):
    spec = race(run_app("en", PAGE, query={"opt_step": str(step)}))
    frame = next(f for f in spec["frames"] if f["name"] == str(step))
    sgd = optimizer_path("rosenbrock", "sgd", (-1.5, 2.0), step, lr=1e-3)
    trail, head = frame["data"][0], frame["data"][2 * 3]  # racer 1's trail and current point
    assert head["x"][0] == pytest.approx(sgd.positions[-1, 0].item(), abs=1e-6)
    assert head["y"][0] == pytest.approx(sgd.positions[-1, 1].item(), abs=1e-6)
    assert trail["x"][0] == -1.5 and trail["x"][-1] == pytest.approx(sgd.positions[-1, 0].item(), abs=1e-4)
    points = {(round(x, 4), round(y, 4)) for x, y in sgd.positions.tolist()}
    assert all((x, y) in points for x, y in zip(trail["x"], trail["y"]))  # every vertex is one of core's positions
    recent = list(zip(trail["x"], trail["y"]))[-RECENT - 1:]  # the last steps are all there, none simplified away
    assert recent == [(round(x, 4), round(y, 4)) for x, y in sgd.positions[-RECENT - 1:].tolist()]


def test_frames_every_step_a_share_of_the_race_and_stay_small():
    spec = race(run_app("en", PAGE))
    names = [int(f["name"]) for f in spec["frames"]]
    assert names == list(range(0, 501, 5))
    assert len(json.dumps(spec)) < 500_000  # measured: about 310 kB for this race (the map picture 15 kB of it)


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
    spec = race(at)
    title = spec["layout"]["title"]["text"]
    assert ("η₁ = 0.1 · η₂ = 0.45 · η₃ = 0.55" in title) and (("Different learning rates" in title) == (lang == "en"))
    assert readout(spec)[2].endswith(f"(stopped at step {path.steps})") if lang == "en" else \
        readout(spec)[2].endswith(f"（在第 {path.steps} 步停下）")


def test_stretched_bowl_then_too_large_offers_the_optimizer_with_the_lr_in_use():
    """Issue 15: after 'Stretched bowl' then 'Learning rate too large', 'Inside the optimizer' offered
    '1. SGD (lr=0.45)' while its table and formula used lr 0.1 (the browser kept the old label on screen)."""
    at = run_app("en", PAGE)
    at.segmented_control(key="opt_preset").set_value("bowl").run()
    before = inside_chooser(at)
    assert before.options[0] == "1. SGD (lr=0.45)"
    at.segmented_control(key="opt_preset").set_value("too_big").run()
    assert not at.exception
    chooser = inside_chooser(at)
    assert chooser.key != before.key  # a new widget: the browser cannot keep showing the old label
    assert list(chooser.options) == ["1. SGD (lr=0.1)", "2. SGD (lr=0.45)", "3. SGD (lr=0.55)"]
    assert chooser.value == 0 and legend_names(race(at))[0] == "1. SGD (lr=0.1)"
    sgd = optimizer_path("bowl", "sgd", (-4.5, 2.0), 100, lr=0.1)
    latex = [e.proto.body.strip("$\n") for e in at.latex]
    assert latex[-1] == (f"\\theta_x \\leftarrow \\theta_x - \\eta\\, g = {sgd.positions[0, 0].item():.4g} - 0.1"
                         f"\\cdot({sgd.grads[0, 0].item():.4g}) = {sgd.positions[1, 0].item():.6g}")
    assert any(c.value.startswith("Numbers of 1. SGD (lr=0.1);") for c in at.caption)
    inside_chooser(at).set_value(2).run()  # the racer chosen is kept when the labels change again
    at.number_input(key="opt_lr2").set_value(0.5).run()
    assert inside_chooser(at).value == 2 and inside_chooser(at).options[2] == "3. SGD (lr=0.5)"


def test_narrow_valley_draws_every_racer_visibly():
    """Issue 15: in 'Narrow valley' SGD's path was hidden under Adam's start. Racer 1 is drawn first and widest,
    the current points are rings inside one another, and the shared start has its own marker."""
    spec = race(run_app("en", PAGE))
    widths = [tr["line"]["width"] for tr in spec["data"][TRAILS]]
    sizes = [tr["marker"]["size"] for tr in spec["data"][HEADS]]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == 3
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 3
    assert spec["data"][2]["x"] == [-1.5] and spec["data"][2]["y"] == [2.0]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("lr", [0.0, -0.01, float("nan")])
def test_nonsense_learning_rate_is_a_translated_message(lang, lr):
    at = run_app(lang, PAGE, params={"opt_lr1": lr})
    assert not at.exception
    assert len(at.error) == 1
    assert ("learning rate must be a positive number" in at.error[0].value) == (lang == "en")
    assert ("学习率必须是正数" in at.error[0].value) == (lang == "zh")
    assert len(at.get("plotly_chart")) == 3  # racers 1 and 3 still race, the mini-batch section still works
    assert legend_names(race(at)) == ["1. SGD (lr=0.001)", "3. Adam (lr=0.05)"]


def test_bad_beta_is_a_message():
    at = run_app("en", PAGE)
    at.number_input(key="opt_beta12_adam").set_value(1.0).run()
    assert not at.exception and "β1" not in at.error[0].value and "beta1 must be between 0 and 1" in at.error[0].value


def test_inside_panel_shows_adams_state():
    at = run_app("en", PAGE)
    inside_chooser(at).set_value(2).run()  # racer 3: Adam, lr 0.05
    rows = at.dataframe[0].value.to_dict("records")
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
    inside_chooser(at).set_value(1).run()
    path = optimizer_path("rosenbrock", "momentum", (-1.5, 2.0), 500, lr=1e-3, weight_decay=0.5)
    latex = [e.proto.body.strip("$\n") for e in at.latex]
    g, x0 = path.grads[0, 0].item(), path.positions[0, 0].item()
    assert latex[0] == f"g' = g + \\lambda\\theta_x = {g:.4g} + 0.5\\cdot({x0:.4g}) = {g + 0.5 * x0:.4g}"
    assert latex[-1].endswith(f"= {path.positions[1, 0].item():.6g}")
    assert readout(race(at))[1].startswith(f"2: θ = {theta(path, 500)}")


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
    noise_map = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert noise_map["layout"]["xaxis"]["title"]["text"] == "weight of 'ink'"
    assert noise_map["data"][3]["x"][-1] == pytest.approx(small.positions[-1, 0].item(), abs=1e-4)


def test_snippet_reproduces_core():
    for name, hp in [("sgd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3, "momentum": 0.8}), ("adam", {"lr": 0.05}),
                     ("nesterov", {"lr": 1e-3}), ("rmsprop", {"lr": 0.01})]:
        path = optimizer_path("rosenbrock", name, (-1.5, 2.0), 60, **hp)
        scope: dict = {}
        exec(compile(path_script("rosenbrock", name, path.hyperparams, (-1.5, 2.0), 60), "<snippet>", "exec"), scope)
        torch.testing.assert_close(torch.tensor(scope["result"], dtype=torch.float64), path.positions[-1])


def test_nesterov_without_momentum_is_a_message_under_its_racer():
    at = run_app("en", PAGE)
    at.selectbox(key="opt_o1").set_value("nesterov").run()
    at.number_input(key="opt_momentum1_nesterov").set_value(0.0).run()
    assert not at.exception and len(at.error) == 1
    assert "Nesterov momentum needs a momentum μ above 0" in at.error[0].value
    assert len(legend_names(race(at))) == 2
