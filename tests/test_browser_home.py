"""Browser: the home pipeline at a student laptop's 1366x768 and a projector's 1920x1080, in both languages: its column
titles, maps and logits never overlap and the shape chain is not cut off (issue 15); a click on a conv1 channel opens
the convolution page on that digit with that very kernel, whose output equals conv1's (issue 17)."""
import re

import numpy as np
import pytest
import torch

from conftest import Server, assert_no_exception, wait_for_app
from core.data import load_digits, to_model_input
from core.lenet import LeNetConfig, build_lenet

pytestmark = pytest.mark.slow

PIPELINE = """() => [...document.querySelectorAll('.js-plotly-plot')].find(
    gd => (gd.data || []).some(d => d.name === 'click'))"""


@pytest.fixture(scope="module")
def home_server(tmp_path_factory):
    """A fresh server with an empty checkpoint folder: the home page shows the untrained network (seed 0)."""
    srv = Server(env={"LENET_CACHE_DIR": str(tmp_path_factory.mktemp("checkpoints"))})
    yield srv
    srv.stop()


def boxes(tab, selector: str) -> list[dict]:
    """Bounding boxes of the elements inside the pipeline chart that match `selector`."""
    return tab.evaluate(f"""(sel) => {{
        const gd = ({PIPELINE})();
        return [...gd.querySelectorAll(sel)].map(e => {{ const r = e.getBoundingClientRect();
            return {{left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: e.textContent}}; }})
            .filter(b => b.right > b.left && b.bottom > b.top);
    }}""", selector)


def overlap(a: dict, b: dict, slack: float = 0.5) -> bool:
    return (min(a["right"], b["right"]) - max(a["left"], b["left"]) > slack and
            min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > slack)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pipeline_titles_maps_and_logits_never_overlap(home_server, browser, size, lang):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    tab = context.new_page()
    try:
        tab.goto(f"{home_server.url}/?lang={lang}")
        wait_for_app(tab, 120_000)
        assert_no_exception(tab)
        tab.wait_for_function(f"() => {{ const gd = ({PIPELINE})(); return gd && gd.querySelector('.annotation'); }}")
        titles = [b for b in boxes(tab, "g.annotation") if not re.fullmatch(r"\d", b["text"].strip())]
        assert len(titles) == 10, [t["text"] for t in titles]
        pictures = boxes(tab, ".heatmaplayer image") + boxes(tab, ".barlayer .point path")
        assert len(pictures) >= 69  # 1 + 3 x 6 + 3 x 16 maps, two strips, ten bars
        for i, a in enumerate(titles):
            for b in titles[i + 1:]:
                assert not overlap(a, b), f"titles {a['text']!r} and {b['text']!r} overlap at {size}, {lang}"
            for p in pictures:
                assert not overlap(a, p), f"title {a['text']!r} lies on the drawing at {size}, {lang}"
        for i, a in enumerate(pictures):  # maps, strips and bars: pool2's maps never meet the logits' bars
            for b in pictures[i + 1:]:
                assert not overlap(a, b, slack=1.0), f"{a} and {b} overlap at {size}, {lang}"
        # every title inside the viewport's width, the whole drawing on the first screen at 1366x768 too
        assert all(0 <= t["left"] and t["right"] <= size[0] for t in titles)
        assert max(p["bottom"] for p in pictures) <= size[1]
        chain = tab.locator("[data-testid='stCode']", has_text="→").first
        assert chain.evaluate("e => { const pre = e.querySelector('pre') || e; return pre.scrollWidth <= pre.clientWidth + 1; }")
    finally:
        context.close()


def test_a_click_on_a_conv1_channel_opens_the_convolution_page_with_that_kernel(home_server, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    try:
        tab.goto(f"{home_server.url}/?lang=en&digit=4")
        wait_for_app(tab, 120_000)
        tab.wait_for_function(f"() => {{ const gd = ({PIPELINE})(); return gd && gd._fullLayout; }}")
        x, y = tab.evaluate(f"""() => {{
            const gd = ({PIPELINE})();
            const click = gd.data.find(d => d.name === 'click');
            const i = click.customdata.findIndex(c => c[0] === 'conv1' && c[1] === 2);
            const L = gd._fullLayout, r = gd.getBoundingClientRect();
            return [r.left + L._size.l + L.xaxis.l2p(click.x[i]), r.top + L._size.t + L.yaxis.l2p(click.y[i])];
        }}""")
        tab.mouse.click(x, y)
        tab.wait_for_url(re.compile(r"/convolution\?"), timeout=60_000)
        wait_for_app(tab, 120_000)
        assert_no_exception(tab)
        assert "conv_kernel=grid" in tab.url and "conv_digit=4" in tab.url
        tab.goto(tab.url + "&conv_row=27&conv_col=27")  # the same link with the window at the last cell: all filled in
        wait_for_app(tab, 120_000)
        model = build_lenet(LeNetConfig(), 0).eval()
        with torch.no_grad():
            want = model.conv1(to_model_input(load_digits().test_images[4:5]))[0, 2].numpy()  # (28, 28)
        got = np.array(tab.evaluate("""() => {  // the step-through figure: its output cells carry their values
            const gd = [...document.querySelectorAll('.js-plotly-plot')].find(
                g => g.data && g.data.some(d => d.name === 'click'));
            return gd.data.find(d => d.name === 'click').customdata;
        }"""), dtype=float).reshape(want.shape)
        np.testing.assert_allclose(got, want, atol=2e-3)  # the link carries the kernel to 4 decimals
    finally:
        context.close()
