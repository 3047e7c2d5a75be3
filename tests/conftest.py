"""Shared fixtures: the digits (full and small), AppTest runs of the app straight on a page, a live server + headless
Chromium for browser tests, and which tests are slow (pytest -m "not slow" is the fast lane)."""
from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
from pathlib import Path
from typing import Iterator

import hypothesis
import pytest
import torch

# One torch thread in the test process, as below: app.py sets the pages' thread count from LENET_THREADS (default 2)
# on its first AppTest run, which would undo torch.set_num_threads(1) for every later test (and two threads spinning
# on a shared two-core machine are slower, not faster). Set before runtime.settings reads it; a value set outside wins.
# The servers the browser tests start inherit it too.
os.environ.setdefault("LENET_THREADS", "1")
# No background warm-up of the pages in the test process (it would race the tests' own cache checks and could still
# be in torch at exit) nor in the servers it starts; tests/test_warm_pages.py calls the warm-ups itself.
os.environ.setdefault("LENET_WARM_PAGES", "0")
os.environ.setdefault("LENET_EAGER_WORKERS", "0")  # training processes start with a module's first run, if it has one

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support import (APP, CHROMIUM, CHROMIUM_ARGS, Server, assert_no_exception, free_port, wait_done,  # noqa: E402,F401
                     wait_for, wait_for_app)
from core.data import Digits, load_digits  # noqa: E402

torch.set_num_threads(1)
# Property tests draw the same examples on every run (a failure reproduces; nothing depends on the run's luck).
# HYPOTHESIS_PROFILE=default explores fresh examples instead.
hypothesis.settings.register_profile("lab", derandomize=True, database=None, print_blob=True)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "lab"))


# Slow tests in modules that are being split and renamed (test_page_basics, test_page_dataset_batches): marked here
# by name so the mark survives the move. Once the move is merged, put @pytest.mark.slow on them and empty this set.
SLOW_BY_NAME = {"test_dataset_loader_numbers_come_from_a_real_loader",  # three dataset-page runs on new settings
                "test_shapes_test_table_and_noise_counts[zh]"}  # the English run stays in the fast lane


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects
def pytest_collection_modifyitems(items) -> None:
    """A test that drives headless Chromium (the browser fixture, against a live server) is slow, wherever it lives.
    Other slow tests say so with @pytest.mark.slow (pytest -m "not slow" is the fast lane, see README)."""
    for item in items:
        if "browser" in item.fixturenames or item.name in SLOW_BY_NAME:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Every test starts from the same random state."""
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def digits() -> Digits:
    """The app's default data: the 5,000 embedded digits, split 4,000 / 1,000."""
    return load_digits()


def small_digits(train: int = 256, test: int = 100) -> Digits:
    """The first `train` training and `test` test digits of the embedded set: small fixed data for quick runs."""
    d = load_digits()
    return Digits(d.train_images[:train], d.train_labels[:train], d.test_images[:test], d.test_labels[:test], d.source)


@pytest.fixture(scope="module")
def small(request) -> Digits:
    """small_digits() of the sizes the test module sets as SMALL = (train, test), else 256 / 100."""
    return small_digits(*getattr(request.module, "SMALL", (256, 100)))


def run_app(lang: str = "en", page: str | None = None, params: dict[str, object] | None = None, timeout: float = 60,
            query: dict[str, str] | None = None):
    """Run app.py in AppTest, in a language, optionally straight on a page (its file under app_pages/), as a deep
    link to the page does: app.py's language switch and navigation run, the home page does not. `query` is the
    link's query string."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at._bidi_component_manager = installed_components()  # else each AppTest scans every installed package again
    # Bound query params are applied by the browser, not by AppTest: set the widget state instead.
    at.session_state["lang"] = lang
    for key, value in (params or {}).items():
        at.session_state[key] = value
    at.query_params.update(query or {})
    if page is not None:
        start_on(at, page)
    at.run()
    if page is not None:
        assert at._finished_page_script_hash == at._page_hash, f"AppTest did not open {page}"
    return at


@functools.cache
def installed_components():
    """Streamlit's registry of installed custom components, found once for the whole test session, as a server does
    once for all its sessions. AppTest builds one per instance by reading the metadata of every installed package:
    0.1-0.15 s of CPU, about half of a light page test (measured on the softmax and pooling pages)."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    manager = BidiComponentManager()
    manager.discover_and_register_components(start_file_watching=False)
    return manager


def start_on(at, page: str) -> None:
    """Make the first run of `at` open `page` directly, as a deep link /<url_path> does (home page not run first).

    AppTest.switch_page can only find st.navigation pages after a first run; before it, the page a link asks for is
    the hash of its url_path (streamlit.navigation.page.StreamlitPage), which is what we request. run_app checks that
    the run really ended on that page: an unknown hash would silently fall back to the home page."""
    from streamlit.util import calc_hash

    from lab.nav import PAGES

    spec = next((p for p in PAGES if p.path == page), None)
    if spec is None:
        raise ValueError(f"{page} is not a page of lab.nav.PAGES")
    from lab.nav import HOME

    at._page_hash = calc_hash("" if spec.url_path == HOME else spec.url_path)  # app.py serves home at /


HAN = re.compile(r"[\u4e00-\u9fff]")  # a Chinese character


def shown_in(at, lang: str) -> str:
    """Assert an AppTest run raised nothing and speaks `lang` (Chinese characters exactly in the zh UI); its text."""
    assert not at.exception, at.exception
    text = page_text(at)
    assert bool(HAN.search(text)) == (lang == "zh")
    return text


def code_panel_in(at, lang: str) -> None:
    """Assert the page has its 'PyTorch code' panel, titled in `lang`."""
    assert any(e.label == ("PyTorch 代码" if lang == "zh" else "PyTorch code") for e in at.expander)


@contextlib.contextmanager
def notebook_downloads() -> Iterator[list[dict]]:
    """Record every download button pages draw while AppTest runs them (its label, file name and `data`: for a code
    panel, the function that builds the notebook on a click). AppTest cannot click a download; this hands the test
    what the click would get."""
    import streamlit as st

    made: list[dict] = []
    real = st.download_button

    def spy(label, data, *args, **kwargs):
        made.append({"label": label, "data": data, "file_name": kwargs.get("file_name"), "help": kwargs.get("help")})
        return real(label, data, *args, **kwargs)

    st.download_button = spy
    try:
        yield made
    finally:
        st.download_button = real


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
