"""The convolution page in AppTest, both languages: controls move, and every number shown is core's (and torch's)."""
import json
import re

import pytest
import torch
import torch.nn.functional as F

from conftest import page_text, run_app
from core.conv import KERNELS, NOTES_IMAGE, NOTES_KERNEL, colour_digit, conv_trace, output_size
from core.data import normalize, to_unit
from core.lenet import build_lenet
from lab import cache
from lab.ui import fmt

PAGE = "app_pages/conv.py"
HAN = re.compile(r"[\u4e00-\u9fff]")


def figures(at) -> dict[str, dict]:
    """The page's Plotly figures by title."""
    out = {}
    for chart in at.get("plotly_chart"):
        fig = json.loads(chart.proto.spec)
        out[fig["layout"].get("title", {}).get("text", "")] = fig
    return out


def shown_output(at) -> list[list[float | None]]:
    """The output map as drawn (None for cells the window has not reached yet)."""
    fig = figures(at)["Output map, filled up to the current cell"]
    return fig["data"][0]["z"]


def cell_line(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Output cell"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_on_the_notes_example(lang):
    at = run_app(lang, PAGE)
    assert not at.exception
    assert bool(HAN.search(page_text(at))) == (lang == "zh")
    assert at.metric[0].value == "-2"  # the true top-left sum, computed
    slip = at.info[0].value
    assert "-3" in slip and "-2" in slip  # the notes' slip is pointed out
    arithmetic = at.code[0].value
    assert "(1×1 + 1×0 + 1×(-1)) + (0×1 + 1×0 + 1×(-1)) + (0×1 + 0×0 + 1×(-1))" in arithmetic
    assert arithmetic.strip().endswith("= -2")


def test_notes_slip_compares_the_products_sum_even_with_a_bias():
    at = run_app("en", PAGE)
    at.number_input(key="conv_bias").set_value(0.5).run()
    assert not at.exception
    assert at.metric[0].value == "-2"  # the products' sum
    assert cell_line(at).startswith("**Output cell (0, 0) = -1.5**")  # the output cell adds the bias
    slip = at.info[0].value
    assert "-3" in slip and "-2" in slip and "-1.5" not in slip  # the notes' sum has no bias in it


def test_moving_the_window_shows_cores_numbers():
    at = run_app("en", PAGE)
    at.slider(key="conv_row").set_value(1).run()
    at.slider(key="conv_col").set_value(2).run()
    assert not at.exception
    trace = conv_trace(NOTES_IMAGE, NOTES_KERNEL)
    assert cell_line(at).startswith(f"**Output cell (1, 2) = {fmt(trace.output[1, 2].item())}**")
    assert at.metric[0].value == fmt(trace.step(1, 2).total) == "2"
    assert not at.info  # the note about the notes' slip belongs to the top-left cell only
    z = shown_output(at)
    want = F.conv2d(NOTES_IMAGE[None, None], NOTES_KERNEL[None, None])[0, 0].tolist()
    assert z[0] == want[0] and z[1] == want[1][:3] and z[2] == [None, None, None]  # filled up to (1, 2)


@pytest.mark.parametrize("pad,stride,dil", [(1, 1, 1), (2, 2, 1), (1, 1, 2), (3, 3, 1)])
def test_padding_stride_dilation(pad, stride, dil):
    at = run_app("en", PAGE, params={"conv_pad": pad, "conv_stride": stride, "conv_dil": dil})
    assert not at.exception
    h_out, w_out = output_size(5, 5, 3, stride, pad, dil)
    formula = at.latex[0].value.strip("$\n")
    assert formula.endswith(f"={h_out}")
    assert f"{{5+2\\cdot{pad}-{dil}\\cdot(3-1)-1}}{{{stride}}}" in formula
    at.slider(key="conv_row").set_value(h_out - 1).run()
    at.slider(key="conv_col").set_value(w_out - 1).run()
    want = F.conv2d(NOTES_IMAGE[None, None], NOTES_KERNEL[None, None], stride=stride, padding=pad, dilation=dil)[0, 0]
    assert shown_output(at) == want.tolist()  # the last cell: the whole map is filled
    assert at.metric[0].value == fmt(want[-1, -1].item())


@pytest.mark.parametrize("lang,words", [("en", "kernel reaches over 7×7"), ("zh", "卷积核覆盖 7×7")])
def test_settings_torch_rejects_show_a_translated_error(lang, words):
    at = run_app(lang, PAGE, params={"conv_dil": 3})
    assert not at.exception
    assert words in at.error[0].value
    assert at.slider(key="conv_dil").value == 3 and at.slider(key="conv_pad")  # the controls are still there
    if lang == "en":  # (AppTest reads translated select boxes back in English only)
        at.slider(key="conv_dil").set_value(2).run()
        assert not at.error and at.metric[0].value == "0"


def test_dataset_digit_with_sobel():
    at = run_app("en", PAGE, params={"conv_src": "digit", "conv_kernel": "sobel_x", "conv_digit": 7})
    at.slider(key="conv_row").set_value(12).run()
    at.slider(key="conv_col").set_value(9).run()
    assert not at.exception
    digit = cache.digits().test_images[7]
    trace = conv_trace(to_unit(digit), KERNELS["sobel_x"])
    assert cell_line(at).startswith(f"**Output cell (12, 9) = {fmt(trace.output[12, 9].item())}**")
    z = shown_output(at)
    assert len(z) == 26 and z[12][9] == pytest.approx(trace.output[12, 9].item(), abs=1e-6)
    torch.testing.assert_close(torch.tensor(z[:12]), trace.output[:12])


def test_normalised_digit_and_bias():
    at = run_app("en", PAGE, params={"conv_src": "digit", "conv_norm": True, "conv_bias": 0.5, "conv_kernel": "blur"})
    at.slider(key="conv_col").set_value(5).run()
    assert not at.exception
    x = normalize(to_unit(cache.digits().test_images[0]))
    trace = conv_trace(x, KERNELS["blur"], bias=0.5)
    assert cell_line(at).startswith(f"**Output cell (0, 5) = {fmt(trace.output[0, 5].item(), 3)}**")
    assert at.code[0].value.strip().endswith(f"= {fmt(trace.output[0, 5].item(), 3)}")


def test_colour_digit_channels_add_up():
    at = run_app("en", PAGE, params={"conv_src": "colour", "conv_digit": 3, "conv_wb": -1.0, "conv_pad": 1})
    at.slider(key="conv_row").set_value(9).run()
    at.slider(key="conv_col").set_value(14).run()
    assert not at.exception
    image = to_unit(colour_digit(cache.digits().test_images[3]))  # (3, 28, 28)
    kernel = torch.stack([NOTES_KERNEL, NOTES_KERNEL, -NOTES_KERNEL])
    trace = conv_trace(image, kernel, padding=1)
    step = trace.step(9, 14)
    sums = {m.label: m.value for m in at.metric}
    assert sums == {f"Sum of {n}": fmt(float(v)) for n, v in zip("RGB", step.channel_sums)}
    assert cell_line(at).startswith(f"**Output cell (9, 14) = {fmt(step.total)}**")
    assert at.code[0].value.strip().endswith(f"= {fmt(step.total)}")
    assert len(at.code[0].value.strip().splitlines()) == 7  # two lines per channel, then the channels added


def test_typed_grids_from_the_link():
    at = run_app("en", PAGE, params={"conv_src": "grid", "conv_gh": 3, "conv_gw": 4, "conv_grid": "1,2,3,4;5,6,7,8;9,10,11,12",
                                      "conv_kernel": "grid", "conv_kh": 2, "conv_kw": 2, "conv_kgrid": "1,-1;0,2"})
    assert not at.exception
    image = torch.arange(1.0, 13.0).reshape(3, 4)
    kernel = torch.tensor([[1.0, -1.0], [0.0, 2.0]])
    at.slider(key="conv_row").set_value(1).run()
    at.slider(key="conv_col").set_value(2).run()
    assert shown_output(at) == F.conv2d(image[None, None], kernel[None, None])[0, 0].tolist()


def test_unreadable_grid_in_link_falls_back():
    at = run_app("en", PAGE, params={"conv_src": "grid", "conv_grid": "1,2;3"})
    assert not at.exception
    assert "could not be read" in at.warning[0].value
    assert at.metric[0].value == "-2"  # the notes' picture instead


def test_canvas_and_upload_wait_for_input():
    for src, word in (("draw", "canvas is empty"), ("upload", "Choose a picture")):
        at = run_app("en", PAGE, params={"conv_src": src})
        assert not at.exception
        assert word in at.info[0].value


def test_learned_filters_only_when_a_trained_model_exists(monkeypatch):
    monkeypatch.setattr(cache, "trained_models", lambda: {})  # no finished run: nothing learned to offer
    assert "LeNet's learned conv1 filters" not in run_app("en", PAGE).selectbox(key="conv_kernel").options
    monkeypatch.delattr(cache, "trained_models")  # a build without training at all
    assert "LeNet's learned conv1 filters" not in run_app("en", PAGE).selectbox(key="conv_kernel").options
    model = build_lenet(seed=3).eval()  # a stand-in for a finished run: the test checks the wiring, not learning
    monkeypatch.setattr(cache, "trained_models", lambda: {"run A": model}, raising=False)
    at = run_app("en", PAGE, params={"conv_src": "digit", "conv_kernel": "lenet", "conv_filter": 4, "conv_pad": 2,
                                      "conv_norm": True})
    assert not at.exception
    assert "run A" in page_text(at)
    at.slider(key="conv_row").set_value(27).run()
    at.slider(key="conv_col").set_value(27).run()
    x = normalize(to_unit(cache.digits().test_images[0]))[None, None]  # (1, 1, 28, 28)
    with torch.no_grad():
        want = model.conv1(x)[0, 3]  # the 4th output channel of conv1
    torch.testing.assert_close(torch.tensor(shown_output(at)), want, rtol=1e-5, atol=1e-5)


def test_code_panel_reproduces_the_output():
    at = run_app("en", PAGE, params={"conv_src": "colour", "conv_pad": 2, "conv_stride": 2, "conv_wg": 0.5})
    assert not at.exception
    namespace: dict = {}
    exec(at.code[-1].value, namespace)
    image = to_unit(colour_digit(cache.digits().test_images[0]))
    kernel = torch.stack([NOTES_KERNEL, NOTES_KERNEL * 0.5, NOTES_KERNEL])
    torch.testing.assert_close(namespace["result"], conv_trace(image, kernel, padding=2, stride=2).output)


def test_each_colour_channel_can_have_its_own_kernel_slice():
    lang = "en"  # AppTest cannot rerun this page's translated selectboxes in Chinese (the browser can)
    slices = {"r": "1,0;0,0", "g": "0,2;0,0", "b": "0,0;-1,3"}
    at = run_app(lang, PAGE, params={"conv_src": "colour", "conv_digit": 5, "conv_kernel": "grid", "conv_kh": 2,
                                      "conv_kw": 2, "conv_kper": True, **{f"conv_kgrid_{c}": v for c, v in slices.items()}})
    at.slider(key="conv_row").set_value(12).run()
    at.slider(key="conv_col").set_value(10).run()
    assert not at.exception
    image = to_unit(colour_digit(cache.digits().test_images[5]))  # (3, 28, 28)
    kernel = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 2.0], [0.0, 0.0]], [[0.0, 0.0], [-1.0, 3.0]]])
    want = F.conv2d(image[None], kernel[None])[0, 0]  # torch itself, one output map from three slices
    trace = conv_trace(image, kernel)
    torch.testing.assert_close(trace.output, want)
    step = trace.step(12, 10)
    names = ("Sum of {}" if lang == "en" else "{} 通道之和")
    assert {m.label: m.value for m in at.metric} == {names.format(n): fmt(float(v)) for n, v in zip("RGB", step.channel_sums)}
    assert not any(n.key and n.key.startswith("conv_w") for n in at.number_input)  # no per-channel weights then
