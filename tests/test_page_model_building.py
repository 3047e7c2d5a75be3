"""AppTest of the model-building page in both languages, and of the autograd page's new sections: the shown numbers
are core's, and moving a control changes them."""

import pytest

from conftest import code_panel_in, run_app, shown_in
from core.autograd import freeze_step, vector_jacobian
from core.model_building import conv_params, network_and_input, predict, weight_sharing

PAGE, AUTOGRAD = "app_pages/model_building.py", "app_pages/autograd.py"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(lang):
    at = run_app(lang, page=PAGE)
    text = shown_in(at, lang)
    if lang == "zh":
        assert "卷积核" in text and "展平" in text
    code_panel_in(at, lang)
    metrics = [m.value for m in at.metric]
    assert metrics[0] == "669,706" and metrics[4] == "221,312"  # the notes' 3x3, 192 -> 128 convolution
    share = weight_sharing()
    assert metrics[5:9] == [f"{share.conv_params:,}", f"{share.dense_params:,}", str(share.conv_inputs_seen),
                            str(share.dense_inputs_seen)] == ["156", "3,692,640", "25", "784"]


def test_controls_change_the_numbers():
    at = run_app("en", page=PAGE, params={"mb_seed": 4, "mb_n": 6})
    assert not at.exception
    model, x = network_and_input(4, 6)
    shown = next(c.value for c in at.code if "y_pred" in c.value)
    assert f"# {predict(model, x).predicted.tolist()}" in shown and "# [6, 10]" in shown
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Hook calls during model(X)"] == "1" and metrics["Hook calls during model.forward(X)"] == "0"
    at.number_input(key="mb_groups").set_value(4).run()
    assert {m.label: m.value for m in at.metric}["Parameters of this Conv2d"] == f"{conv_params(192, 128, 3, True, 4).total:,}"
    at.number_input(key="mb_groups").set_value(5).run()
    assert not at.exception and at.error and "divisible by groups" in at.error[0].value
    assert at.slider(key="mb_fb").value == 1 and not at.warning
    at.slider(key="mb_fb").set_value(2).run()
    assert any("[1, 800]" in w.value for w in at.warning)  # LeNet's 2 x 16 x 5 x 5 in one row
    at.radio(key="mb_map").set_value("notes").run()
    assert any("[1, 6272]" in w.value for w in at.warning)
    assert any("# [2, 3136]" in c.value for c in at.code)


def test_autograd_vjp_and_freezing_follow_the_controls():
    at = run_app("en", page=AUTOGRAD, params={"ag_seed": 3, "ag_v1": -2.0, "ag_frozen": ["fc1"]})
    assert not at.exception
    vj = vector_jacobian(3, (1.0, -2.0, 1.0))
    code = "\n".join(c.value for c in at.code)
    assert "grad can be implicitly created only for scalar outputs" in code
    assert f"x.grad = {[round(a, 4) for a in vj.x_grad.tolist()]}" in code
    fr = freeze_step(("fc1",), 3)
    assert {m.label: m.value for m in at.metric}["Trainable parameters"] == f"{fr.trainable:,} / {fr.total:,}"
    at.multiselect(key="ag_frozen").set_value(["conv1", "conv2", "fc1", "fc2", "fc3"]).run()
    assert not at.exception and any("does not require grad" in c.value for c in at.code)
    assert {m.label: m.value for m in at.metric}["Trainable parameters"] == "0 / 61,706"
