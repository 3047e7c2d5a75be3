"""The convolution page in AppTest, both languages: controls move, and every number shown is core's (and torch's).
The step-through is one figure whose frames hold every step: each frame is checked against core here, and the
browser test (test_browser_conv.py) checks what the browser draws when the slider or Play moves."""
import re

import pytest
import torch
import torch.nn.functional as F

from charts import figures
from conftest import page_text, run_app
from core.conv import KERNELS, NOTES_IMAGE, NOTES_KERNEL, colour_digit, conv_trace, output_size
from core.data import normalize, to_unit
from core.lenet import build_lenet
from core.quiz import make_question
from lab import cache
from lab.ui import fmt

PAGE = "app_pages/conv.py"
HAN = re.compile(r"[\u4e00-\u9fff]")


def stepper(at) -> dict:
    """The step-through figure (the one with frames)."""
    return next(f for f in figures(at) if f.get("frames"))


def traces(fig: dict) -> dict[str, dict]:
    """The figure's named traces (what moves, and the click layer)."""
    return {d["name"]: d for d in fig["data"] if d.get("name")}


def at_step(fig: dict, k: int) -> dict[str, dict]:
    """The named traces as frame k shows them."""
    frame = next(f for f in fig["frames"] if f["name"] == str(k))
    return {fig["data"][i]["name"]: d for i, d in zip(frame["traces"], frame["data"])}


def shown_step(fig: dict) -> int:
    """The step the slider is on (and the figure's data shows)."""
    slider = fig["layout"]["sliders"][0]
    return int(slider["steps"][slider["active"]]["args"][0][0])


def output_z(fig: dict) -> list[list[float]]:
    """The output map's heatmap: the one on the output axes."""
    return next(d["z"] for d in fig["data"] if d["type"] == "heatmap" and d.get("xaxis") == "x2")


def numbers(text: str) -> list[float]:
    """The numbers written in a text, in order ('a - b' read as a and -b)."""
    plain = re.sub(r"<[^>]+>", " ", text).replace(" - ", " -")
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", plain)]


def cell_line(named: dict) -> str:
    return re.sub(r"<[^>]+>", "", named["cell_line"]["text"][0])


def assert_frames_match(fig: dict, trace, digits: int = 2) -> None:
    """Every frame shows core's window, products, sums and cell value for its step."""
    c, n = trace.kernel.shape[0], trace.kernel[0].numel()
    for frame in fig["frames"]:
        k = int(frame["name"])
        step, named = trace.steps[k], at_step(fig, k)
        for ch in range(c):
            want = step.products[ch].double().round(decimals=digits).flatten().tolist()
            assert named["products"]["marker"]["color"][ch * n:(ch + 1) * n] == pytest.approx(want, abs=1e-9)
            window = step.window[ch].double().round(decimals=digits).flatten().tolist()
            assert named["windows"]["marker"]["color"][ch * n:(ch + 1) * n] == pytest.approx(window, abs=1e-9)
            assert numbers(named["sums"]["text"][ch])[-1] == float(fmt(float(step.channel_sums[ch]), digits))
        assert cell_line(named).startswith(f"Output cell ({step.row}, {step.col}) = ")
        assert cell_line(named).endswith(f"= {fmt(step.total, digits)}")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_on_the_notes_example(lang):
    at = run_app(lang, PAGE)
    assert not at.exception
    assert bool(HAN.search(page_text(at))) == (lang == "zh")
    fig = stepper(at)
    assert len(fig["frames"]) == 9 and shown_step(fig) == 0
    named = traces(fig)
    assert numbers(named["sums"]["text"][0]) == [1, 0, -1, 0, 0, -1, 0, 0, -1, -2]  # the true top-left sum
    slip = at.info[0].value
    assert "-3" in slip and "-2" in slip  # the notes' slip is pointed out
    if lang == "en":
        assert_frames_match(fig, conv_trace(NOTES_IMAGE, NOTES_KERNEL))
        assert cell_line(named) == "Output cell (0, 0) = -2"


def test_notes_slip_compares_the_products_sum_even_with_a_bias():
    at = run_app("en", PAGE)
    at.number_input(key="conv_bias").set_value(0.5).run()
    assert not at.exception
    named = traces(stepper(at))
    assert numbers(named["sums"]["text"][0])[-1] == -2  # the products' sum
    assert cell_line(named) == "Output cell (0, 0) = -2 + 0.5 = -1.5"  # the output cell adds the bias
    slip = at.info[0].value
    assert "-3" in slip and "-2" in slip and "-1.5" not in slip  # the notes' sum has no bias in it


def test_a_link_opens_at_its_cell():
    at = run_app("en", PAGE, params={"conv_row": 1, "conv_col": 2})
    assert not at.exception
    fig = stepper(at)
    trace = conv_trace(NOTES_IMAGE, NOTES_KERNEL)
    assert shown_step(fig) == 5 and fig["layout"]["sliders"][0]["active"] == 5
    named = traces(fig)
    assert named["products"]["marker"]["color"] == trace.step(1, 2).products[0].flatten().tolist()
    assert cell_line(named) == f"Output cell (1, 2) = {fmt(trace.output[1, 2].item())}" == "Output cell (1, 2) = 2"
    play = fig["layout"]["updatemenus"][0]["buttons"][0]["args"]
    assert play[0][0] == "6" and play[1]["fromcurrent"] and play[1]["frame"]["duration"] <= 100  # on from there
    assert play[1]["transition"]["duration"] == 0
    mask = named["to_come"]  # the cells after (1, 2) are covered: the rest of row 1 is none, then rows 2..
    assert (mask["x"][0], mask["y"][0]) == (2.5, 0.5)
    assert output_z(fig) == F.conv2d(NOTES_IMAGE[None, None], NOTES_KERNEL[None, None])[0, 0].tolist()


@pytest.mark.parametrize("pad,stride,dil", [(1, 1, 1), (2, 2, 1), (1, 1, 2), (3, 3, 1)])
def test_padding_stride_dilation(pad, stride, dil):
    at = run_app("en", PAGE, params={"conv_pad": pad, "conv_stride": stride, "conv_dil": dil})
    assert not at.exception
    h_out, w_out = output_size(5, 5, 3, stride, pad, dil)
    formula = at.latex[0].value.strip("$\n")
    assert formula.endswith(f"={h_out}")
    assert f"{{5+2\\cdot{pad}-{dil}\\cdot(3-1)-1}}{{{stride}}}" in formula
    fig = stepper(at)
    want = F.conv2d(NOTES_IMAGE[None, None], NOTES_KERNEL[None, None], stride=stride, padding=pad, dilation=dil)[0, 0]
    assert output_z(fig) == want.tolist()
    assert len(fig["frames"]) == h_out * w_out
    assert_frames_match(fig, conv_trace(NOTES_IMAGE, NOTES_KERNEL, 0.0, stride, pad, dil))
    if dil > 1:  # the pixels a dilated kernel reads are marked, frame by frame
        taps = at_step(fig, h_out * w_out - 1)["taps"]
        rows, cols = conv_trace(NOTES_IMAGE, NOTES_KERNEL, 0.0, stride, pad, dil).field(h_out - 1, w_out - 1)
        assert sorted(set(taps["y"])) == rows and sorted(set(taps["x"])) == cols


@pytest.mark.parametrize("lang,words", [("en", "kernel reaches over 7×7"), ("zh", "卷积核覆盖 7×7")])
def test_settings_torch_rejects_show_a_translated_error(lang, words):
    at = run_app(lang, PAGE, params={"conv_dil": 3})
    assert not at.exception
    assert words in at.error[0].value
    assert at.slider(key="conv_dil").value == 3 and at.slider(key="conv_pad")  # the controls are still there
    if lang == "en":  # (AppTest reads translated select boxes back in English only)
        at.slider(key="conv_dil").set_value(2).run()
        assert not at.error and cell_line(traces(stepper(at))) == "Output cell (0, 0) = 0"


def test_dataset_digit_with_sobel_steps_through_a_band_of_rows():
    at = run_app("en", PAGE, params={"conv_src": "digit", "conv_kernel": "sobel_x", "conv_digit": 7,
                                      "conv_row": 12, "conv_col": 9})
    assert not at.exception
    trace = conv_trace(to_unit(cache.digits().test_images[7]), KERNELS["sobel_x"])  # 26x26: 676 steps
    fig = stepper(at)
    assert shown_step(fig) == 12 * 26 + 9
    names = [int(f["name"]) for f in fig["frames"]]
    assert names == list(range(9 * 26, 18 * 26))  # rows 9-17: the band of 9 rows (234 frames) that holds row 12
    torch.testing.assert_close(torch.tensor(output_z(fig)), trace.output.double().round(decimals=2).float())
    assert at.select_slider(key="conv_band").value == 9
    assert_frames_match(fig, trace)
    at.select_slider(key="conv_band").set_value(18).run()  # the next band: rows 18-25
    fig = stepper(at)
    assert shown_step(fig) == 18 * 26 and int(fig["frames"][-1]["name"]) == 26 * 26 - 1
    assert at.session_state["conv_row"] == 18 and at.session_state["conv_col"] == 0


def test_normalised_digit_and_bias():
    at = run_app("en", PAGE, params={"conv_src": "digit", "conv_norm": True, "conv_bias": 0.5, "conv_kernel": "blur",
                                      "conv_col": 5})
    assert not at.exception
    x = normalize(to_unit(cache.digits().test_images[0]))
    trace = conv_trace(x, KERNELS["blur"], bias=0.5)
    assert cell_line(traces(stepper(at))).endswith(f"= {fmt(trace.output[0, 5].item(), 3)}")
    assert_frames_match(stepper(at), trace, 3)


def test_colour_digit_channels_add_up():
    at = run_app("en", PAGE, params={"conv_src": "colour", "conv_digit": 3, "conv_wb": -1.0, "conv_pad": 1,
                                      "conv_row": 9, "conv_col": 14})
    assert not at.exception
    image = to_unit(colour_digit(cache.digits().test_images[3]))  # (3, 28, 28)
    kernel = torch.stack([NOTES_KERNEL, NOTES_KERNEL, -NOTES_KERNEL])
    trace = conv_trace(image, kernel, padding=1)
    step = trace.step(9, 14)
    named = traces(stepper(at))
    assert [numbers(named["sums"]["text"][c])[-1] for c in range(3)] == [float(fmt(float(v)))
                                                                        for v in step.channel_sums]
    terms = " + ".join(fmt(float(v)) for v in step.channel_sums).replace("+ -", "- ")
    assert cell_line(named) == f"Output cell (9, 14) = {terms} = {fmt(step.total)}"
    fig = stepper(at)
    assert [int(f["name"]) for f in fig["frames"]] == list(range(8 * 28, 12 * 28))  # 3 channels: bands of 4 rows
    assert_frames_match(fig, trace)


def test_typed_grids_from_the_link():
    at = run_app("en", PAGE, params={"conv_src": "grid", "conv_gh": 3, "conv_gw": 4, "conv_grid": "1,2,3,4;5,6,7,8;9,10,11,12",
                                      "conv_kernel": "grid", "conv_kh": 2, "conv_kw": 2, "conv_kgrid": "1,-1;0,2"})
    assert not at.exception
    image = torch.arange(1.0, 13.0).reshape(3, 4)
    kernel = torch.tensor([[1.0, -1.0], [0.0, 2.0]])
    fig = stepper(at)
    assert output_z(fig) == F.conv2d(image[None, None], kernel[None, None])[0, 0].tolist()
    assert_frames_match(fig, conv_trace(image, kernel))


def test_unreadable_grid_in_link_falls_back():
    at = run_app("en", PAGE, params={"conv_src": "grid", "conv_grid": "1,2;3"})
    assert not at.exception
    assert "could not be read" in at.warning[0].value
    assert cell_line(traces(stepper(at))) == "Output cell (0, 0) = -2"  # the notes' picture instead


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
    x = normalize(to_unit(cache.digits().test_images[0]))[None, None]  # (1, 1, 28, 28)
    with torch.no_grad():
        want = model.conv1(x)[0, 3]  # the 4th output channel of conv1
    torch.testing.assert_close(torch.tensor(output_z(stepper(at))), want, rtol=0, atol=5e-4)  # shown to 3 decimals


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
                                      "conv_kw": 2, "conv_kper": True, "conv_row": 12, "conv_col": 10,
                                      **{f"conv_kgrid_{c}": v for c, v in slices.items()}})
    assert not at.exception
    image = to_unit(colour_digit(cache.digits().test_images[5]))  # (3, 28, 28)
    kernel = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 2.0], [0.0, 0.0]], [[0.0, 0.0], [-1.0, 3.0]]])
    want = F.conv2d(image[None], kernel[None])[0, 0]  # torch itself, one output map from three slices
    trace = conv_trace(image, kernel)
    torch.testing.assert_close(trace.output, want)
    named = traces(stepper(at))
    assert named["kernels"]["marker"]["color"] == kernel.flatten().tolist()  # three different slices drawn
    step = trace.step(12, 10)
    assert [numbers(named["sums"]["text"][c])[-1] for c in range(3)] == [float(fmt(float(v)))
                                                                        for v in step.channel_sums]
    assert not any(n.key and n.key.startswith("conv_w") for n in at.number_input)  # no per-channel weights then


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_frame_of_a_normalised_digit_is_explained_and_background_padding_removes_it(lang):
    params = {"conv_src": "digit", "conv_norm": True, "conv_pad": 2, "conv_kernel": "blur"}
    at = run_app(lang, PAGE, params=params)
    assert not at.exception
    caption = "\n".join(c.value for c in at.caption)
    assert ("Why is there a frame" in caption) if lang == "en" else ("边缘为什么有一圈框" in caption)
    x = normalize(to_unit(cache.digits().test_images[0]))
    zeros = conv_trace(x, KERNELS["blur"], padding=2)
    assert output_z(stepper(at))[0][0] == pytest.approx(zeros.output[0, 0].item(), abs=1e-3)  # -1/9: the frame
    at = run_app(lang, PAGE, params={**params, "conv_padbg": True})
    assert not at.exception
    want = F.conv2d(F.pad(x[None, None], (2,) * 4, value=-1.0), KERNELS["blur"][None, None])[0, 0]
    torch.testing.assert_close(torch.tensor(output_z(stepper(at))), want, rtol=0, atol=5e-4)
    assert output_z(stepper(at))[0][0] == -1  # the background goes on: no frame
    caption = "\n".join(c.value for c in at.caption)
    assert ("F.pad(x, (2, 2, 2, 2), value=-1)" in caption)
    namespace: dict = {}
    exec(at.code[-1].value, namespace)  # the code panel pads with -1 too
    torch.testing.assert_close(namespace["result"], want)


def test_no_background_toggle_without_a_frame():
    at = run_app("en", PAGE, params={"conv_src": "digit", "conv_pad": 2})  # not normalised: the background is 0
    assert not at.exception
    assert not [t for t in at.toggle if t.key == "conv_padbg"]
    assert "Why is there a frame" not in "\n".join(c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_your_turn_asks_checks_the_answer_then_shows_the_steps(lang):
    at = run_app(lang, PAGE, params={"quiz_seed": 3})
    assert not at.exception
    q_sum, q_size = make_question("conv_sum", 3), make_question("output_size", 3)
    s = q_sum.settings
    text = page_text(at)
    assert (f"output cell ({s['row']}, {s['col']})" in text) if lang == "en" else (f"输出格子 ({s['row']}, {s['col']})" in text)
    assert not at.success and not at.error
    if lang == "zh":
        return  # AppTest cannot rerun this page's translated select boxes in Chinese (the browser can)
    at.number_input(key="quiz_conv_sum_3_box").set_value(q_sum.answer)
    at.button(key="quiz_conv_sum_3_check").click().run()
    assert not at.exception
    assert fmt(q_sum.answer) in at.success[0].value
    steps = "\n".join(m.value for m in at.markdown)
    assert f"**{fmt(q_sum.answer)}**" in steps  # the worked steps end with the answer, in bold
    at.number_input(key="quiz_output_size_3_box").set_value(q_size.answer + 1)
    at.button(key="quiz_output_size_3_check").click().run()
    assert fmt(q_size.answer) in at.error[0].value and fmt(q_size.answer + 1) in at.error[0].value
    steps = "\n".join(m.value for m in at.markdown)
    v = {step.key: step.values for step in q_size.steps}
    assert f"{fmt(v['padded'][0])} - {fmt(v['reach'][0])} = {fmt(v['room'][0])}" in steps.replace("−", "-")


def test_a_new_question_changes_the_seed_in_the_link():
    at = run_app("en", PAGE, params={"quiz_seed": 3})
    at.button(key="quiz_new").click().run()
    assert not at.exception
    seed = at.number_input(key="quiz_seed").value
    assert seed != 3 and at.query_params["quiz_seed"] in (str(seed), [str(seed)])


def test_presenter_mode_draws_the_step_through_larger():
    runs = {on: run_app("en", PAGE, params={"present": on, "conv_src": "digit"}) for on in (False, True)}
    assert not runs[True].exception
    plain_fig, big_fig = stepper(runs[False]), stepper(runs[True])
    size = lambda fig, name: traces(fig)[name]["textfont"]["size"]  # noqa: E731
    for name in ("cell_line", "sums", "products"):
        assert size(big_fig, name) >= 1.5 * size(plain_fig, name)
    assert big_fig["layout"]["height"] > plain_fig["layout"]["height"]  # taller rows for the larger text
    assert len(big_fig["frames"]) == len(plain_fig["frames"])


@pytest.mark.parametrize("preset, asked", [("tiny", 6), ("wide", 16)])
def test_a_designed_network_offers_each_of_its_own_conv1_channels(monkeypatch, preset, asked):
    """A run of the training lab's 'tiny' (2 channels) or 'wide' (16) design: the filter slider runs over its own
    channels, and a link asking for one it lacks shows its last instead of failing; its name is the translated one."""
    from core.lenet import LeNetConfig, apply_preset
    from core.training import TrainConfig

    config = TrainConfig(**{k: v for k, v in vars(apply_preset(LeNetConfig(), preset)).items()
                            if k in TrainConfig.__dataclass_fields__}, epochs=3)
    model = build_lenet(config.lenet, seed=3).eval()
    monkeypatch.setattr(cache, "trained_models", lambda: {config.run_label: model})
    monkeypatch.setattr(cache, "trained_configs", lambda: {config.run_label: config})
    at = run_app("zh", PAGE, params={"conv_src": "digit", "conv_kernel": "lenet", "conv_filter": asked,
                                      "conv_pad": model.conv1.padding[0], "conv_norm": True})
    assert not at.exception
    channels = model.conv1.out_channels
    assert at.slider(key="conv_filter").max == channels
    assert config.run_label not in page_text(at) and "3 轮" in page_text(at)  # named in Chinese
    x = normalize(to_unit(cache.digits().test_images[0]))[None, None]
    with torch.no_grad():
        want = model.conv1(x)[0, min(asked, channels) - 1]
    torch.testing.assert_close(torch.tensor(output_z(stepper(at))), want, rtol=0, atol=5e-4)
