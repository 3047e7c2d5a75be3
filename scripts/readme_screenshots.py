"""Regenerate the README's screenshots (headless Debian Chromium, a server of its own on 127.0.0.1).

    .venv/bin/python scripts/readme_screenshots.py      # writes assets/screenshots/*.png

Trains the training page's 2x2 comparison (6 epochs, into a temporary checkpoint folder), then photographs the
live curves in English and the convolution page in Chinese.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench.training_ui import START, progress_texts, training_url  # noqa: E402
from support import server_and_browser, wait_for_app  # noqa: E402

OUT = ROOT / "assets" / "screenshots"


def wait_done(tab, runs: int, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        texts = progress_texts(tab)
        if len(texts) == runs and all(t.startswith(("Done", "Stopped early", "Diverged")) for t in texts):
            return
        tab.wait_for_timeout(500)
    raise RuntimeError(f"runs did not finish: {progress_texts(tab)}")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with server_and_browser() as (srv, browser, _):
        tab = browser.new_page(viewport={"width": 1500, "height": 2600})
        tab.goto(training_url(srv.url, seed=0, epochs=6, train_size=4000, mode="compare", tr_preset="grid") + "&lang=en")
        wait_for_app(tab, timeout=120_000)
        tab.locator(START).click()
        wait_done(tab, 4)
        wait_for_app(tab)
        tab.wait_for_timeout(1500)
        top = tab.locator(".st-key-tr_start").bounding_box()  # from the Start button ...
        chart = tab.locator("[data-testid='stPlotlyChart']").first.bounding_box()  # ... to the curves
        tab.screenshot(path=str(OUT / "training_compare_en.png"),
                       clip={"x": chart["x"] - 20, "y": top["y"] - 10, "width": chart["width"] + 40,
                             "height": chart["y"] + chart["height"] - top["y"] + 20})
        tab.goto(f"{srv.url}/convolution?lang=zh&conv_row=1&conv_col=1")
        wait_for_app(tab, timeout=120_000)
        tab.set_viewport_size({"width": 1500, "height": 1900})
        tab.wait_for_timeout(1000)
        tab.screenshot(path=str(OUT / "convolution_zh.png"))
    print("wrote", *sorted(p.name for p in OUT.glob("*.png")))


if __name__ == "__main__":
    main()
