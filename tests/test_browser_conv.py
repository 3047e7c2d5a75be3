"""Browser: what needs one on the convolution and pooling pages. The step-through is one Plotly figure with frames:
scrubbing its slider shows core's numbers for that step, Play advances at 10 steps a second or more without a single
message to the server, a click on an output cell moves the window there (and into the link); drawing on the canvas
feeds the convolution, an uploaded picture is used."""
import io
import re
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from conftest import assert_no_exception, wait_for_app
from core.conv import KERNELS, NOTES_IMAGE, NOTES_KERNEL, conv_trace
from core.data import load_digits, normalize, to_unit
from core.pooling import NOTES_RAMP, pool_trace

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).parent / "screenshots"
FIGURE = """() => [...document.querySelectorAll('.js-plotly-plot')].find(
    el => el._transitionData && el._transitionData._frames && el._transitionData._frames.length)"""
STATE = f"""() => {{
    const g = ({FIGURE})(), s = g._fullLayout.sliders[0], named = {{}};
    g.data.forEach(d => {{ if (d.name) named[d.name] = {{x: d.x, y: d.y, text: d.text, color: d.marker && d.marker.color}}; }});
    const texts = [...g.querySelectorAll('text')].map(t => t.textContent);
    return {{active: s.active, step: Number(s.steps[s.active].args[0][0]), first: Number(s.steps[0].args[0][0]),
             count: s.steps.length, named, texts}};
}}"""


def main_text(tab) -> str:
    return tab.inner_text("[data-testid='stMain']")


def figure_state(tab) -> dict:
    """The step-through as the browser shows it: the slider's step and the moving traces by name, and every text
    drawn in the figure."""
    tab.wait_for_function(f"() => !!({FIGURE})()", timeout=30_000)
    return tab.evaluate(STATE)


def numbers(text: str) -> list[float]:
    """The numbers written in a text, in order ('a - b' read as a and -b)."""
    plain = re.sub(r"<[^>]+>", " ", text).replace(" - ", " -")
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", plain)]


def scrub(tab, fraction: float) -> None:
    """Click the Plotly slider's rail at a fraction of its length (Plotly moves to the nearest step)."""
    rail = tab.locator(".js-plotly-plot .slider-rail-rect").last
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    tab.mouse.click(box["x"] + fraction * box["width"], box["y"] + box["height"] / 2)


def cell_point(tab, axis: str, row: int, col: int) -> tuple[float, float]:
    """Page coordinates of cell (row, col) of the map on axes x{axis}/y{axis}, from Plotly's own axes."""
    return tuple(tab.evaluate(f"""([a, r, c]) => {{
        const g = ({FIGURE})(), L = g._fullLayout, xa = L['xaxis' + a], ya = L['yaxis' + a];
        g.scrollIntoView({{block: 'center'}});
        const box = g.getBoundingClientRect();
        return [box.left + xa._offset + xa.l2p(c), box.top + ya._offset + ya.l2p(r)];
    }}""", [axis, row, col]))


def assert_conv_step(state: dict, trace, digits: int) -> None:
    """The figure's moving traces and texts at its slider's step are core's numbers for that step."""
    step = trace.steps[state["step"]]
    named = state["named"]
    want_window = (step.window[0].double().round(decimals=digits)).flatten().tolist()
    want_products = (step.products[0].double().round(decimals=digits)).flatten().tolist()
    n = len(want_window)  # the first channel's cells come first
    assert named["windows"]["color"][:n] == pytest.approx(want_window, abs=1e-9)
    assert named["products"]["color"][:n] == pytest.approx(want_products, abs=1e-9)
    written = numbers(named["sums"]["text"][0])
    assert written[:-1] == pytest.approx(want_products, abs=1e-9)  # the products, added up row by row
    assert written[-1] == pytest.approx(round(float(step.channel_sums[0]), digits), abs=1e-9)
    line = f"Output cell ({step.row}, {step.col}) = "
    shown = next(t for t in state["texts"] if t.startswith(line))  # as drawn in the page, not only in the data
    assert numbers(shown.removeprefix(line))[-1] == pytest.approx(round(step.total, digits), abs=1e-9)
    fr, fc = trace.field(step.row, step.col)
    assert min(named["window_frame"]["x"]) == fc[0] - 0.5 and max(named["window_frame"]["y"]) == fr[-1] + 0.5


def test_scrubbing_the_slider_shows_cores_numbers(server, page):
    page.goto(f"{server.url}/convolution?lang=en&conv_src=digit&conv_digit=3&conv_norm=true&conv_kernel=sobel_x"
              f"&conv_pad=2&conv_row=12&conv_col=5")
    wait_for_app(page)
    image = normalize(to_unit(load_digits().test_images[3]))
    trace = conv_trace(image, KERNELS["sobel_x"], padding=2)  # 30x30: more steps than one figure holds
    state = figure_state(page)
    assert state["step"] == 12 * 30 + 5  # the link's cell, on the slider and in the data
    assert state["first"] == 8 * 30 and state["count"] == 240  # rows 8-15: the band that holds row 12
    assert_conv_step(state, trace, 3)
    for fraction in (0.9, 0.05, 0.47):
        scrub(page, fraction)
        page.wait_for_function(f"() => ({FIGURE})()._fullLayout.sliders[0].active !== {state['active']}")
        state = figure_state(page)
        assert_conv_step(state, trace, 3)
    assert_no_exception(page)


def play_rate(tab, steps: int = 30) -> tuple[float, list]:
    """Press Play, wait for `steps` frames, press Pause: (steps per second, [(time, frame name)])."""
    tab.evaluate(f"""() => {{ window.__steps = []; const g = ({FIGURE})();
        if (!g.__counted) {{ g.__counted = true;
            g.on('plotly_animatingframe', e => window.__steps.push([performance.now(), e.name])); }} }}""")
    tab.locator(".updatemenu-button", has_text="Play").first.click()
    tab.wait_for_function(f"() => window.__steps.length >= {steps}", timeout=30_000)
    tab.locator(".updatemenu-button", has_text="Pause").first.click()
    seen = tab.evaluate("() => window.__steps")
    seen = seen[:steps]
    return (len(seen) - 1) / ((seen[-1][0] - seen[0][0]) / 1000), seen


def test_play_runs_in_the_browser_at_ten_steps_a_second(server, page):
    sent: list[float] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.append(time.monotonic())))
    page.goto(f"{server.url}/convolution?lang=en&conv_src=digit&conv_digit=3&conv_norm=true&conv_kernel=sobel_x"
              f"&conv_pad=2")
    wait_for_app(page)
    figure_state(page)
    before = len(sent)
    rates = []
    for _ in range(3):  # the best of three: a busy machine (CI, six jobs on two cores) can stall one run
        rate, steps = play_rate(page)
        rates.append(rate)
        assert [int(n) for _, n in steps] == list(range(int(steps[0][1]), int(steps[0][1]) + len(steps)))  # in order
        if rate >= 10:
            break
    assert len(sent) == before  # not one message to the server while playing: no rerun
    assert page.locator("[data-testid='stStatusWidget']").count() == 0
    assert max(rates) >= 10, f"Play ran at {', '.join(f'{r:.1f}' for r in rates)} steps per second"
    page.wait_for_function(f"""() => {{ const g = ({FIGURE})(), s = g._fullLayout.sliders[0];
        return s.steps[s.active].args[0][0] === g._fullLayout._currentFrame; }}""")  # the last frame shown
    state = figure_state(page)
    trace = conv_trace(normalize(to_unit(load_digits().test_images[3])), KERNELS["sobel_x"], padding=2)
    assert state["step"] >= 29  # frames 0..29 at least
    assert_conv_step(state, trace, 3)
    print(f"Play: {', '.join(f'{r:.1f}' for r in rates)} steps per second")


def test_clicking_an_output_cell_moves_the_window(server, page):
    page.goto(f"{server.url}/convolution?lang=en&conv_pad=1")
    wait_for_app(page)
    trace = conv_trace(NOTES_IMAGE, NOTES_KERNEL, padding=1)
    assert figure_state(page)["step"] == 0
    x, y = cell_point(page, "2", 3, 2)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_function("() => /conv_row=3/.test(location.search) && /conv_col=2/.test(location.search)",
                           timeout=20_000)
    wait_for_app(page)
    state = figure_state(page)
    assert state["step"] == 3 * 5 + 2  # the slider and the figure opened at the clicked cell
    assert_conv_step(state, trace, 2)
    x, y = cell_point(page, "2", 1, 4)  # a second click on another cell works too
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_function("() => /conv_row=1/.test(location.search) && /conv_col=4/.test(location.search)",
                           timeout=20_000)
    wait_for_app(page)
    assert figure_state(page)["step"] == 1 * 5 + 4
    assert_no_exception(page)


def test_drawing_on_the_canvas_is_convolved(server, page):
    page.goto(f"{server.url}/convolution?lang=en&conv_src=draw")
    wait_for_app(page)
    assert "canvas is empty" in main_text(page)
    canvas = page.locator("[data-testid='stMain'] canvas").last
    canvas.wait_for(timeout=30_000)
    box = canvas.bounding_box()
    for k in range(8):  # the pointer crosses the canvas before pressing, as a hand does (fabric needs it)
        page.mouse.move(box["x"] + 10 + 14 * k, box["y"] + 10 + 3 * k)
    page.mouse.move(box["x"] + 112, box["y"] + 30)
    page.mouse.down()
    for k in range(1, 21):  # a vertical stroke: a "1"
        page.mouse.move(box["x"] + 112, box["y"] + 30 + 8 * k)
    page.mouse.up()
    page.wait_for_function(f"() => !!({FIGURE})()", timeout=30_000)
    wait_for_app(page)
    assert "canvas is empty" not in main_text(page)
    z = page.evaluate(f"() => ({FIGURE})().data[0].z")
    assert len(z) == 28 and len(z[0]) == 28
    columns = [sum(row[c] for row in z) for c in range(28)]
    inked = [c for c, s in enumerate(columns) if s > 1]
    assert inked and max(inked) - min(inked) <= 8  # a narrow upright stroke, as drawn
    rows = [r for r, row in enumerate(z) if sum(row) > 0.5]
    assert max(rows) - min(rows) >= 15  # and a tall one
    assert_no_exception(page)


def png(colour: bool) -> bytes:
    """A dark 2 on light paper, as a phone photo of homework would be (colour: blue ink on yellow paper)."""
    img = Image.new("RGB", (120, 90), (250, 240, 160) if colour else (245, 245, 245))
    ImageDraw.Draw(img).line([(40, 20), (80, 20), (80, 45), (40, 70), (85, 70)], fill=(20, 40, 200) if colour else
                             (10, 10, 10), width=9)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def test_uploaded_picture_grey_colour_and_bad_file(server, page):
    page.goto(f"{server.url}/convolution?lang=en&conv_src=upload")
    wait_for_app(page)
    upload = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    upload.set_input_files({"name": "two.png", "mimeType": "image/png", "buffer": png(False)})
    page.wait_for_function(f"() => !!({FIGURE})()", timeout=30_000)
    wait_for_app(page)
    z = page.evaluate(f"() => ({FIGURE})().data[0].z")
    assert len(z) == 28 and z[0][0] == 0 and max(max(r) for r in z) == 1  # MNIST style: ink bright on black
    page.get_by_text("Keep the colours (3 channels)").click()
    page.wait_for_function(f"() => {{ const g = ({FIGURE})(); return g && g.data[0].type === 'image'; }}",
                           timeout=30_000)
    wait_for_app(page)
    state = figure_state(page)
    assert len(state["named"]["windows"]["color"]) == 3 * 9 and len(state["named"]["sums"]["text"]) == 3  # per channel
    image = page.evaluate(f"() => ({FIGURE})().data[0].z")
    assert len(image) == 21 and len(image[0]) == 28  # 90x120 -> 21x28
    upload.set_input_files({"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture at all"})
    page.wait_for_function("() => document.body.innerText.includes('not a picture this app can read')", timeout=30_000)
    assert_no_exception(page)


def test_pooling_frames_click_and_chinese_deep_link(server, page):
    page.goto(f"{server.url}/pooling?lang=zh&pool_src=ramp&pool_stride=1")
    wait_for_app(page)
    text = main_text(page)
    assert "池化" in text and "[[6, 8], [14, 16]]" in text
    mx, av = pool_trace(NOTES_RAMP, "max", 2, 1), pool_trace(NOTES_RAMP, "avg", 2, 1)
    state = figure_state(page)
    assert state["step"] == 1 * 3 + 1  # the middle cell by default
    x, y = cell_point(page, "2", 0, 2)  # the max-pooled map
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_function("() => /pool_row=0/.test(location.search) && /pool_col=2/.test(location.search)",
                           timeout=20_000)
    wait_for_app(page)
    state = figure_state(page)
    assert state["step"] == 2
    assert any(t.startswith("最大值：max(3, 4, 7, 8) = 8") for t in state["texts"])
    scrub(page, 0.99)  # the last window
    page.wait_for_function(f"() => ({FIGURE})()._fullLayout.sliders[0].active === 8")
    state = figure_state(page)
    assert numbers(state["named"]["max_line"]["text"][0])[4] == mx.steps[8].value == 16
    assert numbers(state["named"]["avg_line"]["text"][0])[-1] == av.steps[8].value == 13.5
    assert_no_exception(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "pooling_zh.png"), full_page=True)


def test_your_turn_from_a_link_checks_and_draws_a_new_question(server, page):
    from core.quiz import make_question

    page.goto(f"{server.url}/convolution?lang=zh&quiz_seed=42")
    wait_for_app(page)
    q = make_question("conv_sum", 42)
    tab = page.get_by_role("tab", name="轮到你了：先预测，再验证")
    assert tab.get_attribute("aria-selected") == "true"  # a link with a question opens on it
    box = page.locator(".st-key-quiz_conv_sum_42_box input")
    box.fill(str(q.answer))
    page.locator(".st-key-quiz_conv_sum_42_check button").click()
    page.wait_for_function("() => document.body.innerText.includes('答对了')", timeout=20_000)
    text = main_text(page)
    assert f"**{q.answer:g}**" not in text and f"= {q.answer:g}" in text.replace("−", "-")  # the steps, worked out
    page.get_by_role("button", name="换一道题").click()
    page.wait_for_function("() => !/quiz_seed=42(&|$)/.test(location.search) && /quiz_seed=\\d+/.test(location.search)",
                           timeout=20_000)
    wait_for_app(page)
    assert "答对了" not in main_text(page)  # a new question waits for its answer
    assert_no_exception(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "conv_quiz_zh.png"), full_page=True)
