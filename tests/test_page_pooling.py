"""The pooling page in AppTest, both languages: the notes' examples, stepping, gradients, all equal to core / torch."""
import json
import re

import pytest
import torch
import torch.nn.functional as F

from charts import figures
from conftest import page_text, run_app
from core.conv import KERNELS, conv_trace
from core.data import to_unit
from core.pooling import NOTES_RAMP, pool_trace
from lab import cache
from lab.views.pooling import listing
from lab.ui import fmt

PAGE = "app_pages/pooling.py"
HAN = re.compile(r"[\u4e00-\u9fff]")


def figure(at, title: str) -> dict:
    for chart in at.get("plotly_chart"):
        fig = json.loads(chart.proto.spec)
        if fig["layout"].get("title", {}).get("text") == title:
            return fig
    raise KeyError(title)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_with_the_notes_examples(lang):
    at = run_app(lang, PAGE)
    assert not at.exception
    text = page_text(at)
    assert bool(HAN.search(text)) == (lang == "zh")
    assert "[[6, 8], [14, 16]]" in text
    assert "**0.8**" in text and "**0.35**" in text and "**4**" in text and "**2.5**" in text


def fmap(index: int, kernel: str = "vertical") -> torch.Tensor:
    return conv_trace(to_unit(cache.digits().test_images[index]), KERNELS[kernel], padding=1).output


def stepper(at) -> dict:
    """The step-through figure (the one with frames)."""
    return next(f for f in figures(at) if f.get("frames"))


def named(fig: dict, k: int | None = None) -> dict[str, dict]:
    """The named traces as the figure shows them, or as frame k does."""
    if k is None:
        return {d["name"]: d for d in fig["data"] if d.get("name")}
    frame = next(f for f in fig["frames"] if f["name"] == str(k))
    return {fig["data"][i]["name"]: d for i, d in zip(frame["traces"], frame["data"])}


def output_z(fig: dict, axis: str) -> list:
    return next(d["z"] for d in fig["data"] if d["type"] == "heatmap" and d.get("xaxis") == axis)


def plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


def assert_frames_match(fig: dict, mx, av, digits: int = 2) -> None:
    """Every frame writes core's max (and its winner) and average for its step, and marks the winner."""
    for frame in fig["frames"]:
        k = int(frame["name"])
        sm, sa, shown = mx.steps[k], av.steps[k], named(fig, k)
        assert plain(shown["max_line"]["text"][0]).startswith(
            f"Max: max({', '.join(fmt(v, digits) for v in sm.window.flatten().tolist())}) = {fmt(sm.value, digits)}, "
            f"taken from row {sm.winner[0]}, column {sm.winner[1]}")
        assert plain(shown["avg_line"]["text"][0]).endswith(f"/ {mx.kernel ** 2} = {fmt(sa.value, digits)}")
        assert (shown["winner"]["y"], shown["winner"]["x"]) == ([sm.winner[0]], [sm.winner[1]])


def test_feature_map_window_and_outputs():
    at = run_app("en", PAGE, params={"pool_digit": 4, "pool_kernel": "sobel_y", "pool_row": 6, "pool_col": 8})
    assert not at.exception
    x = fmap(4, "sobel_y")
    mx, av = pool_trace(x, "max"), pool_trace(x, "avg")
    fig = stepper(at)
    slider = fig["layout"]["sliders"][0]
    assert slider["steps"][slider["active"]]["args"][0][0] == str(6 * 14 + 8)  # the link's cell
    assert len(fig["frames"]) == 14 * 14  # every window of the 14x14 output in one figure
    step = mx.step(6, 8)
    assert plain(named(fig)["max_line"]["text"][0]) == (
        f"Max: max({listing(step.window)}) = {fmt(step.value)}, taken from row {step.winner[0]}, column {step.winner[1]}")
    assert plain(named(fig)["avg_line"]["text"][0]).endswith(f"/ 4 = {fmt(av.step(6, 8).value)}")
    torch.testing.assert_close(torch.tensor(output_z(fig, "x2")), F.max_pool2d(x[None], 2)[0], atol=5e-3, rtol=0)
    torch.testing.assert_close(torch.tensor(output_z(fig, "x3")), F.avg_pool2d(x[None], 2)[0], atol=5e-3, rtol=0)
    mask = named(fig)["to_come_max"]  # the whole map shows; the cells after (6, 8) are covered faintly
    assert (mask["x"][0], mask["y"][0]) == (8.5, 5.5) and "0.75" in mask["fillcolor"]
    assert_frames_match(fig, mx, av)


@pytest.mark.parametrize("size,stride,pad", [(2, "1", 0), (3, "same", 1), (3, "2", 1), (4, "3", 2), (1, "same", 0)])
def test_settings_on_the_ramp(size, stride, pad):
    at = run_app("en", PAGE, params={"pool_src": "ramp", "pool_k": size, "pool_stride": stride, "pool_pad": pad})
    assert not at.exception
    s = None if stride == "same" else int(stride)
    mx, av = pool_trace(NOTES_RAMP, "max", size, s, pad), pool_trace(NOTES_RAMP, "avg", size, s, pad)
    fig = stepper(at)
    assert output_z(fig, "x2") == mx.output.tolist()
    torch.testing.assert_close(torch.tensor(output_z(fig, "x3"), dtype=torch.float32),
                               av.output.double().round(decimals=2).float())
    assert len(fig["frames"]) == mx.output.numel()
    assert_frames_match(fig, mx, av)
    assert [m.value for m in at.metric] == [f"{int((tr.grad_input != 0).sum())} of 16" for tr in (mx, av)]
    g = figure(at, "Gradient at the input, max pooling")["data"][0]["z"]
    leaf = NOTES_RAMP.clone().requires_grad_(True)
    F.max_pool2d(leaf[None], size, s, pad).sum().backward()
    assert g == leaf.grad.tolist()


def test_rejected_padding_is_explained():
    at = run_app("en", PAGE, params={"pool_src": "ramp", "pool_k": 1, "pool_pad": 1})
    assert not at.exception
    assert "more than half" in at.error[0].value
    at.slider(key="pool_pad").set_value(0).run()
    assert not at.error and not at.exception


def test_code_panel_reproduces_outputs_and_gradients():
    at = run_app("en", PAGE, params={"pool_digit": 2, "pool_k": 3, "pool_stride": "2", "pool_pad": 1})
    assert not at.exception
    namespace: dict = {}
    exec(at.code[-1].value, namespace)
    x = fmap(2)
    mx, av = pool_trace(x, "max", 3, 2, 1), pool_trace(x, "avg", 3, 2, 1)
    for got, want in zip(namespace["result"], (mx.output, av.output, mx.grad_input, av.grad_input)):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_your_turn_on_a_pooled_value(lang):
    from core.quiz import make_question

    at = run_app(lang, PAGE, params={"quiz_seed": 11})
    assert not at.exception
    q = make_question("pool_value", 11)
    text = page_text(at)
    kind = {"max": ("Max pooling", "最大池化"), "avg": ("Average pooling", "平均池化")}[q.settings["kind"]]
    assert kind[lang == "zh"] in text
    assert len(at.expander) and at.number_input(key="quiz_pool_value_11_box").value is None
    if lang == "zh":
        return  # AppTest cannot rerun this page's translated select boxes in Chinese (the browser can)
    at.number_input(key="quiz_pool_value_11_box").set_value(round(q.answer, 2))
    at.button(key="quiz_pool_value_11_check").click().run()
    assert not at.exception
    assert at.success and fmt(q.answer, 4) in at.success[0].value


def test_presenter_mode_draws_the_step_through_larger():
    plain_fig, big_fig = (stepper(run_app("en", PAGE, params={"present": on})) for on in (False, True))
    assert not run_app("en", PAGE, params={"present": True}).exception
    size = lambda fig: named(fig)["max_line"]["textfont"]["size"]  # noqa: E731
    assert size(big_fig) >= 1.5 * size(plain_fig)
    assert big_fig["layout"]["height"] > plain_fig["layout"]["height"]  # taller lines for the larger text
