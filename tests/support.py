"""Helpers shared by the tests and the benchmarks: a live server on loopback, Chromium settings, page waits."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `streamlit run app.py` (or another script) on a free loopback port, stopped at the end."""

    def __init__(self, env: dict[str, str] | None = None, app: Path = APP) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
        self.log = tempfile.NamedTemporaryFile(prefix="lenet-server-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})},
                                     stdout=self.log, stderr=subprocess.STDOUT)  # a file: a full pipe would block it
        try:
            wait_for(self.healthy, 60, "the server's health check", every=0.3)
        except AssertionError:
            self.stop()
            raise RuntimeError(f"streamlit server did not start:\n{self.output()}") from None

    def healthy(self) -> bool:
        """The server answers its health check."""
        try:
            urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2)
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    def output(self) -> str:
        """What the server printed so far (for diagnosing a failed test)."""
        return Path(self.log.name).read_text(errors="replace")


def wait_for(condition: Callable[[], T], timeout: float = 60, what: str | Callable[[], str] = "the condition",
             every: float = 0.02) -> T:
    """Poll `condition()` until it returns something truthy, and return that; fail after `timeout` seconds, saying
    `what` was awaited (a callable is asked at that moment). The one place the tests wait for another thread or
    process: on a condition, with a deadline, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what() if callable(what) else what} after {timeout} s")
        time.sleep(every)
    return value


def wait_done(manager, config, timeout: float = 90):
    """The view of `config`'s run in a job manager once it is no longer queued or running (done, failed, cancelled)."""
    def finished():
        view = manager.view(config)
        return view if view is not None and not view.active else None
    return wait_for(finished, timeout, f"{config} to finish")


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


def crashing_save(real_save, keep_bytes: int, error: Exception):
    """A stand-in for torch.save that writes the file, cuts it to `keep_bytes` and raises `error`: a crash
    (disk full, power cut) in the middle of saving a checkpoint."""
    def save(obj, fh, *args, **kwargs):
        real_save(obj, fh, *args, **kwargs)
        fh.seek(0)
        fh.truncate(keep_bytes)
        raise error
    return save


@contextmanager
def server_and_browser(env: dict[str, str] | None = None, app: Path = APP) -> Iterator[tuple[Server, object, Path]]:
    """A fresh server saving checkpoints into a temporary folder, and headless Chromium: (server, browser, folder).
    Both are stopped, and the folder removed, at the end (benchmarks and screenshot scripts)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        srv = Server(env={"LENET_CACHE_DIR": folder, **(env or {})}, app=app)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    yield srv, browser, Path(folder)
                finally:
                    browser.close()
        finally:
            srv.stop()
