"""Shared fixtures: AppTest runs of the app, and a live server + headless Chromium for browser tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]

sys.path.insert(0, str(ROOT))
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


def page_text(at) -> str:
    """All the visible text of an AppTest run, for language checks."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `streamlit run app.py` on a free loopback port, stopped at the end."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})},
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("streamlit server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


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


def wait_for_app(tab, timeout: float = 60_000) -> None:
    """Wait until Streamlit has run the page: the main text is present and stops changing for 0.8 s."""
    tab.wait_for_selector("[data-testid='stMainBlockContainer'] .stElementContainer", timeout=timeout)
    tab.wait_for_function(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]');
            const running = document.querySelector('[data-testid="stStatusWidget"]');
            const text = main ? main.innerText : '';
            const now = Date.now();
            if (running || text !== window.__lastText) { window.__lastText = text; window.__since = now; return false; }
            return now - window.__since > 800;
        }""",
        timeout=timeout, polling=200,
    )


def assert_no_exception(tab) -> None:
    """No exception element and no traceback text on the page."""
    assert tab.locator("[data-testid='stException']").count() == 0
    assert "Traceback" not in tab.inner_text("body")
