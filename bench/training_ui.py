"""Driving the training page from a browser: used by the benchmarks (and the same selectors as the browser tests)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support import wait_for_app  # noqa: E402

START = ".st-key-tr_start button"  # keyed widgets carry a st-key-<key> class: independent of the language
STOP = ".st-key-tr_stop button"
PROGRESS = "[data-testid='stProgress']"


def training_url(url: str, seed: int, epochs: int = 30, train_size: int = 4000, mode: str = "single", **extra) -> str:
    """A deep link to the training page with these settings."""
    params = {"tr_mode": mode, "tr_seed": seed, "tr_ep": epochs, "tr_n": train_size, **extra}
    return f"{url}/training?" + "&".join(f"{k}={v}" for k, v in params.items())


def progress_texts(tab) -> list[str]:
    """The status line of every run on the page."""
    return [tab.locator(PROGRESS).nth(i).inner_text() for i in range(tab.locator(PROGRESS).count())]


def start_training(browser, url: str, seed: int, epochs: int = 30, train_size: int = 4000, timeout: float = 60_000):
    """Open the training page in a new context, press Start for one run, wait until it is queued or training;
    returns the tab (close its context to leave; the run goes on)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    tab = ctx.new_page()
    tab.goto(training_url(url, seed, epochs, train_size))
    wait_for_app(tab, timeout=timeout)
    tab.locator(START).click()
    tab.wait_for_function(
        """() => [...document.querySelectorAll("[data-testid='stProgress']")]
                 .some(p => /Epoch|queue|Done/.test(p.innerText))""", timeout=timeout, polling=200)
    return tab
