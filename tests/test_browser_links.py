"""Browser: a shared link opens the same view on a fresh server (deep link with query parameters), a link copied
after moving a slider reproduces that view in another browser, ?present=true folds the explanations, every url_path
of the navigation (and /home) opens its page, and hostile link values never break a control, make a link or fetch a
picture (Streamlit's real URL binding, which AppTest only imitates)."""
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from conftest import Server, assert_no_exception, translated, wait_for_app
from core.autograd import backward_calls
from core.data import load_digits, to_model_input
from core.dataset import iterations_per_epoch
from core.train_eval import repeat_forward
from lab.nav import HOME, PAGES

SHOTS = Path(__file__).parent / "screenshots"
ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u4e00-\u9fff]")


SCREENS = [(size, lang) for size in ((1366, 768), (1920, 1080)) for lang in ("en", "zh")]  # a laptop, a projector


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """A fresh server (nothing cached, nothing in session) whose checkpoints go to a temporary folder."""
    server = Server(env={"LENET_CACHE_DIR": str(tmp_path_factory.mktemp("checkpoints"))})
    yield server
    server.stop()


def wait_for_health(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.3)


def main_text(tab) -> str:
    return tab.inner_text("[data-testid='stMain']")


def test_autograd_link_opens_the_same_state_in_chinese(srv, page):
    page.goto(f"{srv.url}/autograd?lang=zh&ag_seed=3&ag_calls=4&ag_pass=forward_again")
    wait_for_app(page)
    assert_no_exception(page)
    text = main_text(page)
    assert HAN.search(text) and "自动求导" in text
    acc = backward_calls(3, 4, "forward_again")
    assert "调用 4 次之后，b.grad 是第一次调用后的 4.00 倍" in text
    first = [round(v, 4) for v in acc.grads[0]["b"].tolist()]
    assert f"b.grad = {first}" in text  # seed 3's numbers, not seed 0's
    assert page.locator(".st-key-ag_calls input[type='range']").input_value() == "4"
    assert page.get_by_role("radio", name="每次都重新前向传播").is_checked()
    assert "ag_seed=3" in page.url and "ag_calls=4" in page.url and "ag_pass=forward_again" in page.url
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "link_autograd_zh.png"), full_page=True)


def test_dataset_link_sets_the_loader(srv, page):
    page.goto(f"{srv.url}/dataset?ds_n=1000&ds_bs=300&ds_drop=true&ds_seed=7")
    wait_for_app(page)
    assert_no_exception(page)
    metrics = [m.inner_text() for m in page.locator("[data-testid='stMetric']").all()]
    assert any(m.startswith("Iterations per epoch") and m.endswith(str(iterations_per_epoch(1000, 300, True))) for m in metrics)
    assert any("drop_last=False" in m and m.endswith("4") for m in metrics)
    assert any(m.startswith("Samples skipped") and m.endswith("100") for m in metrics)
    assert page.locator(".st-key-ds_drop input[type='checkbox']").is_checked()


def test_a_link_copied_after_moving_a_slider_reproduces_the_view(srv, browser, page):
    page.goto(f"{srv.url}/train_eval?te_drop=0.3")
    wait_for_app(page)
    handle = page.locator(".st-key-te_reps input[type='range']")
    handle.focus()
    handle.press("ArrowRight")  # 5 -> 6 calls
    page.wait_for_function("() => location.search.includes('te_reps=6')", timeout=20_000)
    wait_for_app(page)
    link = page.url
    other = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
    try:
        other.goto(link)
        wait_for_app(other)
        assert_no_exception(other)
        x = to_model_input(load_digits().test_images[:16])
        spread = repeat_forward(x, "train", 6, 0.3, 0.1, 0).spread
        want = f"model.train(): largest change {spread:.3f}"  # 6 calls with p = 0.3, as the teacher saw
        try:  # the chart's title is drawn by Plotly after the script has finished
            other.wait_for_function("want => document.querySelector(\"[data-testid='stMain']\").innerText.includes(want)",
                                    arg=want, timeout=30_000)
        except Exception:
            pass  # the assertion below says what was there instead
        assert want in main_text(other)
        assert other.locator(".st-key-te_reps input[type='range']").input_value() == "6"
    finally:
        other.context.close()


def test_presenter_mode_from_the_url_folds_explanations(srv, page):
    page.goto(f"{srv.url}/pitfalls?present=true&pf_which=softmax_before_loss")
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator(".st-key-present input[type='checkbox']").is_checked()
    folded = page.locator("[data-testid='stExpander'] summary", has_text="Explanation")
    assert folded.count() >= 3  # intro, why, and the probe
    intro = "Five mistakes that beginners make"
    assert not page.get_by_text(intro).is_visible()  # folded away
    assert page.get_by_role("heading", name="Softmax before CrossEntropyLoss").is_visible()
    folded.first.click()
    page.get_by_text(intro).wait_for(state="visible", timeout=10_000)
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.stMainBlockContainer p')).fontSize)")
    assert size >= 20  # larger type for the projector
    page.screenshot(path=str(SHOTS / "present_pitfalls.png"), full_page=True)
    page.goto(f"{srv.url}/softmax?present=true")  # metrics and code grow too (the paragraph rule once shrank them)
    wait_for_app(page)
    metric = page.evaluate("parseFloat(getComputedStyle(document.querySelector(\"[data-testid='stMetricValue'] p\")).fontSize)")
    code = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.stMainBlockContainer pre code')).fontSize)")
    assert metric >= 40 and code >= 17, (metric, code)
    page.goto(f"{srv.url}/pitfalls?pf_which=softmax_before_loss")
    wait_for_app(page)
    assert page.get_by_text(intro).is_visible()  # not presenting: the explanation is open text


def active_page(tab) -> str:
    """The title of the page the navigation marks as the one on show."""
    return tab.locator("[data-testid='stSidebarNavLink'][aria-current='page']").inner_text().split("\n")[-1]


@pytest.mark.slow
@pytest.mark.parametrize("size, lang", SCREENS, ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else v)
def test_every_url_path_of_the_navigation_opens_its_page(srv, browser, size, lang):
    """Issue 15 item 11: /home said "Page not found"; every url_path (and / itself) opens its own page, on a laptop
    and on a projector, in both languages."""
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
    try:
        for path, spec in [("", PAGES[0]), *((s.url_path, s) for s in PAGES)]:
            page.goto(f"{srv.url}/{path}?lang={lang}")
            wait_for_app(page, timeout=180_000)
            assert_no_exception(page)
            assert "Page not found" not in page.inner_text("body"), path
            assert active_page(page) == translated(lang, spec.title), path
            want = "/" if spec.url_path == HOME else f"/{spec.url_path}"
            assert page.url.split("?")[0] == srv.url + want, (path, page.url)
        assert f"lang={lang}" in page.url
    finally:
        page.context.close()


HOSTILE = {"image": "![t](http://host/track.png)", "link": "[Log in again](http://host/phish)",
           "html": "<img src=http://host/x.png>"}


@pytest.mark.slow
@pytest.mark.parametrize("path, link, shown", [
    ("softmax", {"sm_target": "inf", "sm_logits": HOSTILE["image"], "sm_temp": "nan", "present": HOSTILE["html"]},
     {"sm_target": "0"}),
    ("convolution", {"conv_pad": "99", "conv_stride": "-inf", "conv_bias": HOSTILE["link"], "conv_src": "x" * 3000,
                     "conv_dil": "1e999", "lang": HOSTILE["image"]}, {"conv_pad": "0", "conv_stride": "1"}),
])
def test_hostile_values_in_a_real_link_are_refused_with_a_note(srv, browser, path, link, shown):
    """Real URL binding: Streamlit raised OverflowError for sm_target=inf. Now no exception and no error box, no
    request to the link's host, no link or picture made from a value, the controls show their defaults, and the
    note at the top names every refused value."""
    tab = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US").new_page()
    fetched = []
    tab.on("request", lambda r: fetched.append(r.url) if r.url.split("?")[0].startswith("http://host") else None)
    try:
        tab.goto(f"{srv.url}/{path}?" + "&".join(f"{k}={quote(v)}" for k, v in link.items()))
        wait_for_app(tab)
        assert_no_exception(tab)
        assert tab.locator("[data-testid='stMain'] [data-testid='stAlertContentError']").count() == 0
        assert fetched == []
        assert tab.locator("a[href*='host']").count() == 0 and tab.locator("img[src*='host']").count() == 0
        note = tab.locator("[data-testid='stAlertContainer']", has_text="The link asked for").inner_text()
        assert all(key in note for key in link), note
        for key, value in shown.items():
            assert tab.locator(f".st-key-{key} input").first.input_value().startswith(value), key
        now = parse_qs(urlsplit(tab.url).query)
        assert not any(value in now.get(key, []) for key, value in link.items())  # refused values leave the address
        tab.screenshot(path=str(SHOTS / f"hostile_link_{path}.png"), full_page=False)
    finally:
        tab.context.close()


# ---- presenter mode at 1920x1080: numbers a back-row student can read -------------------------------------------

CHART_APP = '''import streamlit as st
from lab import figures
st.session_state["present"] = st.query_params.get("present") == "true"
figures.show({"data": [{"type": "heatmap", "z": [[1, -2], [3, 4]], "text": [["1", "-2"], ["3", "4"]],
                        "texttemplate": "%{text}", "showscale": False}],
              "layout": {"xaxis": {"title": {"text": "column"}}, "yaxis": {"title": {"text": "row"}}, "height": 320}},
             key="fig")
'''
CHART_TEXT = """() => Array.from(document.querySelectorAll('.js-plotly-plot text')).map(
    t => [t.closest('g[class]').getAttribute('class'), parseFloat(getComputedStyle(t).fontSize)])"""


def chart_font_sizes(tab) -> dict[str, list[float]]:
    """Font sizes of a page's Plotly text, by kind: tick labels, and the numbers written in cells (a heatmap's own
    labels, or the text of a scatter drawn over the cells, as the step-through figures do)."""
    tab.wait_for_selector(".js-plotly-plot text", timeout=60_000)
    sizes: dict[str, list[float]] = {"tick": [], "cell": [], "other": []}  # other: titles, annotations, legends
    for cls, size in tab.evaluate(CHART_TEXT):
        kind = "tick" if cls in ("xtick", "ytick") else "cell" if cls in ("heatmap-label", "textpoint") else "other"
        sizes[kind].append(size)
    return sizes


def assert_presenter_grows(tab, url: str) -> None:
    tab.goto(f"{url}{'&' if '?' in url else '?'}present=false")
    wait_for_app(tab)
    normal = chart_font_sizes(tab)
    tab.goto(f"{url}{'&' if '?' in url else '?'}present=true")
    wait_for_app(tab)
    presenting = chart_font_sizes(tab)
    assert any(normal.values()), normal  # something to measure
    for kind in ("tick", "cell", "other"):
        if normal[kind]:  # a page draws text of several sizes: the smallest and the largest each grow 1.5 times
            assert presenting[kind], (kind, normal[kind])
            assert min(presenting[kind]) >= 1.5 * min(normal[kind]), (kind, normal[kind], presenting[kind])
            assert max(presenting[kind]) >= 1.5 * max(normal[kind]), (kind, normal[kind], presenting[kind])


@pytest.mark.slow
def test_presenter_mode_makes_tick_labels_and_cell_numbers_one_and_a_half_times_larger(browser, tmp_path):
    """Through lab.figures.show, the one path for figures: Streamlit's theme draws ticks at 12 px whatever the
    layout's font, so each kind of text is scaled from the size the theme gives it (measured: 12 -> 19.2 px)."""
    from support import free_port

    script = tmp_path / "chart_app.py"
    script.write_text(CHART_APP)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_health(f"http://127.0.0.1:{port}")
        tab = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        assert_presenter_grows(tab, f"http://127.0.0.1:{port}/")
        tab.context.close()
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
@pytest.mark.parametrize("size, lang", SCREENS, ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else v)
@pytest.mark.parametrize("url_path", ["pooling", "convolution", "home"])
def test_presenter_mode_grows_a_real_page_s_chart_text(srv, browser, url_path, size, lang):
    spec = next(s for s in PAGES if s.url_path == url_path)
    view = ROOT / "lab" / "views" / Path(spec.path).name
    source = (ROOT / spec.path).read_text() + (view.read_text() if view.exists() else "")
    if "figures.show" not in source and "from lab.figures import" not in source:
        pytest.skip(f"{spec.path} still draws with st.plotly_chart, not lab.figures.show")
    tab = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
    try:
        assert_presenter_grows(tab, f"{srv.url}/{'' if url_path == HOME else url_path}?lang={lang}")
    finally:
        tab.context.close()


@pytest.mark.slow
def test_presenter_mode_widget_values_are_large_and_a_slider_value_sits_above_its_thumb(srv, browser):
    """Issue 15 item 5: in presenter mode the value of a slider was drawn over its thumb, and the values inside
    number boxes stayed at 14 px."""
    tab = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    try:
        for present in ("false", "true"):
            tab.goto(f"{srv.url}/softmax?lang=zh&present={present}")
            wait_for_app(tab)
            # the page's text can settle before its widgets are drawn (seen after the module's other tests)
            tab.wait_for_selector("[data-testid='stSliderThumbValue'] p", timeout=60_000)
            tab.wait_for_selector(".stMainBlockContainer input[type=number]", timeout=60_000)
            box = tab.evaluate("""() => {
                const value = document.querySelector("[data-testid='stSliderThumbValue']");
                const thumb = value.parentElement.getBoundingClientRect(), v = value.getBoundingClientRect();
                const label = value.closest("[data-testid='stSlider']").querySelector('label').getBoundingClientRect();
                const size = e => parseFloat(getComputedStyle(e).fontSize);
                return {value_top: v.top, value_bottom: v.bottom, thumb_top: thumb.top, label_bottom: label.bottom,
                        value_size: size(value.querySelector('p')),
                        input_size: size(document.querySelector('.stMainBlockContainer input[type=number]'))}; }""")
            assert box["value_bottom"] <= box["thumb_top"] + 0.5, box  # above the thumb, not over it
            if present == "true":
                assert box["value_top"] >= box["label_bottom"] - 0.5, box  # and below its label, now it is larger
                assert box["value_size"] >= 20 and box["input_size"] >= 20, box
        tab.screenshot(path=str(SHOTS / "present_softmax_1920.png"))
    finally:
        tab.context.close()


def _secondary_script():
    import streamlit as st

    from lab import ui

    st.session_state["lang"] = "en"
    with ui.secondary():
        st.slider("seed", 0, 9, 3, key="seed")


@pytest.mark.parametrize("present", [False, True])
def test_secondary_controls_fold_away_in_presenter_mode(present):
    """AppTest (no browser): pages wrap controls a class seldom needs in `with ui.secondary():`."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_secondary_script, default_timeout=60)
    at.session_state["present"] = present
    at.run()
    assert not at.exception
    folded = [e for e in at.expander if e.label == "More controls"]
    assert bool(folded) == present
    assert at.slider(key="seed").value == 3
    if present:
        assert folded[0].slider(key="seed").value == 3
