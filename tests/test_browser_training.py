"""Browser: a comparison survives slider moves to its end; two students with the same settings share one run;
a restart finds the run on disk; drawing on the canvas shows each model's probabilities; a Chinese deep link."""
import re
from pathlib import Path

import pytest
import torch

from bench.training_ui import START, progress_texts, training_url
from conftest import Server, assert_no_exception, wait_for, wait_for_app

SHOTS = Path(__file__).parent / "screenshots"
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("checkpoints")


@pytest.fixture(scope="module")
def srv(cache_dir):
    """A fresh server whose checkpoints go to a temporary folder."""
    server = Server(env={"LENET_CACHE_DIR": str(cache_dir)})
    yield server
    server.stop()


def wait_all_done(tab, runs: int, timeout: float = 90) -> list[str]:
    """Wait until the page shows this many runs, all finished; their status lines."""
    def finished():
        texts = progress_texts(tab)
        return len(texts) == runs and all(t.startswith(("Done", "Stopped early", "Diverged")) for t in texts) and texts
    return wait_for(finished, timeout, lambda: f"{runs} finished runs, not {progress_texts(tab)}", every=0.3)


def wait_runs(tab, runs: int, timeout: float = 30_000) -> None:
    """Wait until the page shows this many progress bars (the live part may arrive after the rest)."""
    tab.wait_for_function(f"() => document.querySelectorAll(\"[data-testid='stProgress']\").length === {runs}",
                          timeout=timeout, polling=100)


def open_popover(tab, name: str) -> None:
    """Open one of the training page's settings popovers (model, optimizer, data, schedule, runs)."""
    tab.locator(f".st-key-tr_pop_{name} button").first.click()
    tab.locator("[data-testid='stPopoverBody']").first.wait_for(timeout=10_000)


def press(tab, key: str, arrow: str) -> None:
    """Move a keyed slider one step with the keyboard (what triggers a rerun) and wait for the page."""
    handle = tab.locator(f".st-key-{key} input[type='range']")
    handle.focus()
    handle.press(arrow)
    wait_for_app(tab)


def test_comparison_continues_to_the_end_while_sliders_move(srv, page, cache_dir):
    page.goto(training_url(srv.url, seed=31, epochs=8, train_size=2000, mode="compare", tr_preset="activation"))
    wait_for_app(page)
    page.locator(START).click()
    page.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stProgress']")]
                              .some(p => /Epoch [1-7]\\/8/.test(p.innerText))""", timeout=60_000, polling=100)
    assert any(t.startswith(("Epoch", "Waiting")) for t in progress_texts(page))  # mid-run
    open_popover(page, "schedule")
    press(page, "tr_ep", "ArrowRight")  # 9 epochs: a configuration nobody started
    page.wait_for_function("() => /tr_ep=9/.test(location.href)", timeout=30_000)
    wait_runs(page, 2)
    page.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stProgress']")]
                              .every(p => p.innerText.startsWith("Not trained yet"))""", timeout=30_000)
    press(page, "tr_ep", "ArrowLeft")  # back to 8: the same runs, still going
    page.keyboard.press("Escape")
    page.locator(".st-key-tr_batches label").click()
    texts = wait_all_done(page, 2)
    assert all(t.startswith("Done") for t in texts)
    wait_for_app(page)
    assert_no_exception(page)
    saved = [torch.load(f, weights_only=True) for f in cache_dir.glob("lenet-*.pt")]
    assert len(saved) == 2  # two runs, nothing for the 9-epoch detour
    assert sorted(c["config"]["activation"] for c in saved) == ["relu", "tanh"]
    assert all(c["reason"] == "finished" and c["epochs_run"] == 8 and len(c["epochs"]) == 8 for c in saved)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "training_compare_en.png"), full_page=True)


def test_two_sessions_same_settings_share_one_run(srv, browser, cache_dir):
    before = set(cache_dir.glob("lenet-*.pt"))
    url = training_url(srv.url, seed=32, epochs=3, train_size=2000)
    tabs = []
    for _ in range(2):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        tab = ctx.new_page()
        tab.goto(url)
        tabs.append(tab)
    watcher = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
    watcher.goto(url)  # a third student with the same settings who never presses Start
    for tab in tabs + [watcher]:
        wait_for_app(tab)
    assert progress_texts(watcher)[0].startswith("Not trained yet")
    for tab in tabs:
        tab.locator(START).click()
    wait_all_done(watcher, 1)  # it followed the shared run by itself
    assert_no_exception(watcher)
    watcher.context.close()
    for tab in tabs:
        wait_all_done(tab, 1)
        wait_for_app(tab)
        assert "Start was pressed 2 times" in tab.inner_text("[data-testid='stMain']")
        assert_no_exception(tab)
        tab.context.close()
    assert len(set(cache_dir.glob("lenet-*.pt")) - before) == 1


def test_chinese_deep_link_to_the_grid(srv, browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    tab = ctx.new_page()
    tab.goto(f"{srv.url}/training?lang=zh&tr_preset=grid&tr_ep=5")
    wait_for_app(tab)
    wait_runs(tab, 4)
    tab.screenshot(path=str(SHOTS / "training_grid_zh.png"), full_page=True)
    assert_no_exception(tab)
    main = tab.inner_text("[data-testid='stMain']")
    assert "训练实验室" in main and len(progress_texts(tab)) == 4
    assert "lang=zh" in tab.url and "tr_preset=grid" in tab.url
    tab.screenshot(path=str(SHOTS / "training_grid_zh.png"), full_page=True)
    ctx.close()


def test_restart_shows_the_run_instantly_and_the_canvas_reads_a_drawn_digit(srv, browser, cache_dir):
    srv.stop()
    again = Server(env={"LENET_CACHE_DIR": str(cache_dir)})  # a new server process, same folder
    try:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1300}, locale="en-US")
        tab = ctx.new_page()
        tab.goto(training_url(again.url, seed=32, epochs=3, train_size=2000))
        wait_for_app(tab)
        wait_runs(tab, 1)
        [text] = progress_texts(tab)  # nobody pressed Start on this server
        assert text.startswith("Done") and "loaded from disk" in text
        # Watch it learn replays the run from its checkpoint: the slider starts at the last moment and steps back
        snap = tab.locator(".st-key-tr_snap")
        snap.wait_for(timeout=30_000)
        assert "after epoch 3" in snap.inner_text()
        bars = lambda: tab.locator(".st-key-tr_snap_fig .bartext").evaluate_all(  # noqa: E731 - the winning class's %
            "els => els.map(e => e.textContent).join(' ')")
        last = bars()
        press(tab, "tr_snap", "ArrowLeft")
        wait_for(lambda: "after epoch 2" in snap.inner_text(), 30, "the slider to step back")
        press(tab, "tr_snap", "Home")
        wait_for(lambda: "before training" in snap.inner_text() and bars() != last, 30, "the first snapshot")
        assert_no_exception(tab)
        tab.screenshot(path=str(SHOTS / "training_replay_en.png"), full_page=True)
        tab.get_by_role("link", name=re.compile("Look inside the trained models")).click()
        wait_for_app(tab)
        tab.get_by_role("tab", name="Draw a digit").click()
        canvas = tab.locator("[data-testid='stMain'] canvas").last
        canvas.wait_for(timeout=30_000)
        box = canvas.bounding_box()
        points = [(70, 40), (150, 40), (150, 60), (120, 120), (100, 190)]  # a seven
        tab.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
        tab.mouse.down()
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for k in range(1, 11):
                tab.mouse.move(box["x"] + x0 + (x1 - x0) * k / 10, box["y"] + y0 + (y1 - y0) * k / 10)
        tab.mouse.up()
        tab.wait_for_function("() => /ReLU · Adam lr=0.001: \\d \\(\\d+%\\)/.test(document.body.innerText)",
                              timeout=30_000)  # the model, by its name
        assert "What the models see" in tab.inner_text("[data-testid='stMain']")
        tab.locator(".st-key-insp_why_drawn label").click()  # why did it say that, for the drawing
        tab.wait_for_function("() => /says \\d \\(\\d+%\\); runner-up \\d/.test(document.body.innerText)",
                              timeout=60_000)
        assert_no_exception(tab)
        tab.screenshot(path=str(SHOTS / "inspect_canvas_en.png"), full_page=True)
        ctx.close()
    finally:
        again.stop()




FIRST_SCREENS = [(w, h, lang, False) for w, h in ((1366, 768), (1920, 1080)) for lang in ("en", "zh")] \
    + [(1920, 1080, "zh", True)]  # and on a projector, in presenter mode


@pytest.mark.parametrize("width, height, lang, present", FIRST_SCREENS, ids=lambda v: str(v))
def test_after_start_the_curves_are_on_the_first_screen(srv, browser, width, height, lang, present):
    """Issue 15: a laptop (1366x768) or a projector (1920x1080) that presses Start sees at least the top half of the
    curves without scrolling; the legend names what differs between the runs."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN" if lang == "zh" else "en-US")
    tab = ctx.new_page()
    tab.goto(f"{srv.url}/training?lang={lang}&tr_n=200&tr_ep=2&tr_seed={60 + width // 1000 + 2 * present}"
             + ("&present=true" if present else ""))
    wait_for_app(tab)
    tab.locator(START).click()
    tab.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stProgress']")]
                             .every(p => !/Not trained|还没有训练/.test(p.innerText))""",
                          timeout=60_000, polling=100)
    chart = tab.locator(".stPlotlyChart").first
    chart.wait_for(timeout=30_000)
    scrolled = tab.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop")
    box = chart.bounding_box()
    assert scrolled == 0 and box["y"] >= 0 and box["y"] + box["height"] / 2 <= height, (box, height)
    train = "train" if lang == "en" else "训练"
    legend = lambda: tab.locator(".stPlotlyChart").first.locator(".legendtext").evaluate_all(  # noqa: E731
        "els => els.map(e => e.textContent)")
    wait_for(lambda: {f"tanh · {train}", f"ReLU · {train}"} <= set(legend()), 60,
             lambda: f"the legend, not {legend()}", every=0.3)
    texts = wait_all_done(tab, 2) if lang == "en" else None
    assert texts is None or all(t.startswith("Done") for t in texts)
    assert_no_exception(tab)
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"training_first_screen_{lang}_{width}{'_present' if present else ''}.png"))
    ctx.close()
