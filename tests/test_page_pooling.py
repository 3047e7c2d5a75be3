"""The pooling page in AppTest, both languages: the notes' examples, stepping, gradients, all equal to core / torch."""
import json
import re

import pytest
import torch
import torch.nn.functional as F

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


def line(at, start: str) -> str:
    return next(m.value for m in at.markdown if m.value.startswith(start))


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


def test_feature_map_window_and_outputs():
    at = run_app("en", PAGE, params={"pool_digit": 4, "pool_kernel": "sobel_y"})
    at.slider(key="pool_row").set_value(6).run()
    at.slider(key="pool_col").set_value(8).run()
    assert not at.exception
    x = fmap(4, "sobel_y")
    mx, av = pool_trace(x, "max"), pool_trace(x, "avg")
    step = mx.step(6, 8)
    assert line(at, "**Max:**") == (f"**Max:** max({listing(step.window)}) = **{fmt(step.value)}**, "
                                    f"taken from row {step.winner[0]}, column {step.winner[1]}")
    assert line(at, "**Average:**").endswith(f"/ 4 = **{fmt(av.step(6, 8).value)}**")
    z = figure(at, "Max pooling")["data"][0]["z"]
    want = F.max_pool2d(x[None], 2)[0]
    torch.testing.assert_close(torch.tensor(z[:6]), want[:6])  # rows above the window are filled
    assert z[6][9] is None  # cells after it are not
    z = figure(at, "Average pooling")["data"][0]["z"]
    torch.testing.assert_close(torch.tensor(z[:6]), F.avg_pool2d(x[None], 2)[0, :6])


@pytest.mark.parametrize("size,stride,pad", [(2, "1", 0), (3, "same", 1), (3, "2", 1), (4, "3", 2), (1, "same", 0)])
def test_settings_on_the_ramp(size, stride, pad):
    at = run_app("en", PAGE, params={"pool_src": "ramp", "pool_k": size, "pool_stride": stride, "pool_pad": pad})
    assert not at.exception
    s = None if stride == "same" else int(stride)
    mx, av = pool_trace(NOTES_RAMP, "max", size, s, pad), pool_trace(NOTES_RAMP, "avg", size, s, pad)
    h, w = mx.output.shape
    at.slider(key="pool_row").set_value(h - 1).run() if h > 1 else None
    at.slider(key="pool_col").set_value(w - 1).run() if w > 1 else None
    assert figure(at, "Max pooling")["data"][0]["z"] == mx.output.tolist()
    torch.testing.assert_close(torch.tensor(figure(at, "Average pooling")["data"][0]["z"]), av.output)
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
