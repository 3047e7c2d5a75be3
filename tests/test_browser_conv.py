"""Browser: what needs one on the convolution and pooling pages. Clicking an output cell moves the window, drawing
on the canvas feeds the convolution, an uploaded picture is used, play slides the window without freezing the page."""
import io
import re
import time
from pathlib import Path

from PIL import Image, ImageDraw

from conftest import assert_no_exception, wait_for_app

SHOTS = Path(__file__).parent / "screenshots"
OUTPUT = "Output map, filled up to the current cell"
INPUT = "Input (padding as a border, kernel's cells framed)"

CHART = """(title) => [...document.querySelectorAll('.js-plotly-plot')].find(
    el => el._fullLayout && el.layout.title && el.layout.title.text.replace(/<[^>]+>/g, '') === title)"""


def chart_data(tab, title: str) -> list:
    """The traces of the Plotly chart with this title, as the browser holds them."""
    tab.wait_for_function(f"(t) => !!({CHART})(t)", arg=title, timeout=20_000)
    return tab.evaluate(f"(t) => ({CHART})(t).data.map(d => ({{type: d.type, z: d.z}}))", title)


def cell_point(tab, title: str, row: int, col: int) -> tuple[float, float]:
    """Page coordinates of cell (row, col) of a grid chart, from Plotly's own axes."""
    tab.wait_for_function(f"(t) => !!({CHART})(t)", arg=title, timeout=20_000)
    return tuple(tab.evaluate(f"""([t, r, c]) => {{
        const el = ({CHART})(t), L = el._fullLayout;
        el.scrollIntoView({{block: 'center'}});
        const box = el.getBoundingClientRect();
        return [box.left + L.xaxis._offset + L.xaxis.l2p(c), box.top + L.yaxis._offset + L.yaxis.l2p(r)];
    }}""", [title, row, col]))


def main_text(tab) -> str:
    return tab.inner_text("[data-testid='stMain']")


def test_clicking_an_output_cell_moves_the_window(server, page):
    page.goto(f"{server.url}/convolution?lang=en&conv_pad=1")
    wait_for_app(page)
    assert "Output cell (0, 0) = " in main_text(page)
    x, y = cell_point(page, OUTPUT, 3, 2)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_function("() => document.body.innerText.includes('Output cell (3, 2) = ')", timeout=20_000)
    wait_for_app(page)
    assert "conv_row=3" in page.url and "conv_col=2" in page.url  # the sliders moved, and the link follows
    z = chart_data(page, OUTPUT)[0]["z"]
    assert z[3][2] is not None and z[3][3] is None  # filled up to the clicked cell
    x, y = cell_point(page, OUTPUT, 1, 4)  # a second click on another cell works too
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_function("() => document.body.innerText.includes('Output cell (1, 4) = ')", timeout=20_000)
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
    page.wait_for_function("() => document.body.innerText.includes('Output cell (0, 0) = ')", timeout=30_000)
    wait_for_app(page)
    assert "canvas is empty" not in main_text(page)
    z = chart_data(page, INPUT)[0]["z"]
    assert len(z) == 28 and len(z[0]) == 28
    columns = [sum(row[c] for row in z) for c in range(28)]
    inked = [c for c, s in enumerate(columns) if s > 1]
    assert inked and max(inked) - min(inked) <= 8  # a narrow upright stroke, as drawn
    rows = [r for r, row in enumerate(z) if sum(row) > 0.5]
    assert max(rows) - min(rows) >= 15  # and a tall one
    assert_no_exception(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "conv_canvas_en.png"), full_page=True)


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
    page.wait_for_function("() => document.body.innerText.includes('Output cell (0, 0) = ')", timeout=30_000)
    wait_for_app(page)
    z = chart_data(page, INPUT)[0]["z"]
    assert len(z) == 28 and z[0][0] == 0 and max(max(r) for r in z) == 1  # MNIST style: ink bright on black
    page.get_by_text("Keep the colours (3 channels)").click()
    page.wait_for_function("() => document.body.innerText.includes('Sum of B')", timeout=30_000)
    wait_for_app(page)
    traces = chart_data(page, INPUT)
    assert traces[0]["type"] == "image" and len(traces[0]["z"]) == 21 and len(traces[0]["z"][0]) == 28  # 90x120 -> 21x28
    upload.set_input_files({"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture at all"})
    page.wait_for_function("() => document.body.innerText.includes('not a picture this app can read')", timeout=30_000)
    assert_no_exception(page)


def test_play_slides_the_window_and_the_page_stays_responsive(server, page):
    page.goto(f"{server.url}/convolution?lang=en&conv_speed=fast")
    wait_for_app(page)
    play = page.get_by_role("switch", name="▶ Play")
    play.click(force=True)
    page.wait_for_function("() => /Output cell \\(1, \\d\\)/.test(document.body.innerText)", timeout=20_000)
    assert play.is_checked()
    bias = page.get_by_label("Bias (added to every sum)")  # a control outside the playing part answers at once
    bias.fill("1")
    bias.press("Enter")
    page.wait_for_function("() => /conv_bias=1/.test(location.search)", timeout=10_000)
    page.wait_for_function("() => /Output cell \\(2, 2\\)/.test(document.body.innerText)", timeout=20_000)
    page.wait_for_function("() => !document.querySelector('[role=switch][aria-checked=true], input[role=switch]:checked')",
                           timeout=10_000)  # it stopped by itself at the last cell
    wait_for_app(page)
    assert "Output cell (2, 2) = 3" in main_text(page)  # 2 + the bias of 1, computed with the new bias
    assert_no_exception(page)


def test_pooling_click_and_chinese_deep_link(server, page):
    page.goto(f"{server.url}/pooling?lang=zh&pool_src=ramp&pool_stride=1")
    wait_for_app(page)
    text = main_text(page)
    assert "池化" in text and "[[6, 8], [14, 16]]" in text
    x, y = cell_point(page, "最大池化", 0, 2)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_function("() => document.body.innerText.includes('max(3, 4, 7, 8) = 8')", timeout=20_000)
    assert "pool_row=0" in page.url and "pool_col=2" in page.url
    assert_no_exception(page)
    page.screenshot(path=str(SHOTS / "pooling_zh.png"), full_page=True)
