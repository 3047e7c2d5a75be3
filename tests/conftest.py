"""Shared fixtures: AppTest runs of the app, and a live server + headless Chromium for browser tests."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support import APP, CHROMIUM, CHROMIUM_ARGS, Server, assert_no_exception, free_port, wait_for_app  # noqa: E402,F401
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Every test starts from the same random state."""
    torch.manual_seed(0)


def run_app(lang: str = "en", page: str | None = None, params: dict[str, object] | None = None, timeout: float = 60):
    """Run app.py in AppTest, in a language, optionally switched to a page (its file under app_pages/)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    # Bound query params are applied by the browser, not by AppTest: set the widget state instead.
    at.session_state["lang"] = lang
    for key, value in (params or {}).items():
        at.session_state[key] = value
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    return at


def translated(lang: str, key: str, **fmt: object) -> str:
    """What the app shows for a catalog key in a language (English as the fallback, like the app)."""
    from core.i18n import load_catalog, translate

    return translate(load_catalog(lang), key, load_catalog("en"), **fmt)


def page_text(at) -> str:
    """All the visible text of an AppTest run, for language checks."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def fresh_manager(tmp_path_factory):
    """A job manager of the module's own, saving into a temporary folder (never the repository's cache)."""
    from lab import cache

    with cache.use_settings(cache_dir=tmp_path_factory.mktemp("checkpoints")):
        yield


@pytest.fixture(scope="module")
def server():
    """A fresh server per test module (deep links must work on a fresh server)."""
    srv = Server()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium missing: run `bash scripts/setup.sh --browser`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A new browser tab with a classroom-sized window."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    tab = context.new_page()
    yield tab
    context.close()
