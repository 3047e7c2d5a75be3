"""Past one machine, for real: scripts/serve_class.py --ray with 2 replicas behind HAProxy on 127.0.0.1.

One Ray start for the module (serve_class starts the head). A class opening pages at once on fresh replicas sees no
exception; two new browser sessions land on different replicas and rerun through the proxy; a Start on one replica is seen training on the other and trains once; a killed replica's
session moves to the other replica and its page reopens from its URL.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bench.browser_load import RerunClock
from bench.training_ui import PROGRESS, START, progress_texts, training_url
from conftest import ROOT, assert_no_exception, free_port, wait_for_app
from core.autograd import backward_calls

pytestmark = pytest.mark.slow
SLIDER = "[data-testid='stSlider'] input[type='range']"


class Class:
    """A running serve_class.py: its URL, its folders, its replicas."""

    def __init__(self, tmp: Path) -> None:
        self.logs, self.cache = tmp / "logs", tmp / "checkpoints"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, str(ROOT / "scripts" / "serve_class.py"), "--replicas", "2", "--port", str(self.port),
               "--ray", "--logs", str(self.logs)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "LENET_CACHE_DIR": str(self.cache)},
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.first_line = self.proc.stdout.readline().strip()  # serve_class gives up by itself after 3 minutes

    def replicas(self) -> dict[str, dict]:
        return json.loads((self.logs / "replicas.json").read_text())

    def stop(self) -> list[psutil.Process]:
        """SIGTERM, as Ctrl-C would; what is left of everything it started afterwards."""
        started = [psutil.Process(self.proc.pid)]
        try:
            started += started[0].children(recursive=True)
        except psutil.Error:
            pass
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)
        return [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture(scope="module")
def cls(tmp_path_factory):
    if shutil.which("haproxy") is None and shutil.which("haproxy", path="/usr/sbin") is None:
        pytest.fail("HAProxy missing: run `bash scripts/setup.sh --browser`")
    running = Class(tmp_path_factory.mktemp("class"))
    if running.first_line != f"serving on {running.url} with 2 replicas":
        running.stop()
        pytest.fail(f"serve_class said {running.first_line!r}; logs in {running.logs}")
    yield running
    assert running.stop() == []  # every process it started is gone


def session(browser, cls: Class, path: str, replica: str | None = None):
    """A new browser session (its own cookies), optionally pinned to a replica by HAProxy's cookie."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    if replica:
        ctx.add_cookies([{"name": "lenet_replica", "value": replica, "url": cls.url}])
    tab = ctx.new_page()
    clock = RerunClock()
    clock.attach(tab)
    tab.goto(f"{cls.url}{path}")
    wait_for_app(tab, timeout=120_000)
    return tab, clock


def replica_of(tab) -> str:
    return next(c["value"] for c in tab.context.cookies() if c["name"] == "lenet_replica")


def shows(tab, text: str, timeout: float = 60_000) -> None:
    """Wait until the page's main part shows text (a busy replica may draw a page in parts)."""
    tab.wait_for_function("(t) => document.querySelector('[data-testid=\"stMain\"]')?.innerText.includes(t)",
                          arg=text, timeout=timeout, polling=200)


def until(condition, timeout: float, tab, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        tab.wait_for_timeout(200)  # pumps the browser's events while waiting
    raise AssertionError(f"timed out waiting for {what}")


def test_a_class_arriving_at_once_on_fresh_replicas_sees_no_exception(cls, browser):
    """The first minute of a lesson: many pages opened at the same moment on replicas that never ran a page."""
    tabs = []
    for path in ("/pooling", "/softmax", "/convolution", "/activations", "/optimizers", "/"):
        ctx = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US")
        tab = ctx.new_page()
        tab.goto(f"{cls.url}{path}", wait_until="commit")  # all six load together
        tabs.append(tab)
    try:
        for tab in tabs:
            wait_for_app(tab, timeout=120_000)
        for tab in tabs:
            assert_no_exception(tab)
    finally:  # a failure must not leave six sessions open on the replicas for the tests after it
        for tab in tabs:
            tab.context.close()


def test_two_new_sessions_land_on_different_replicas_and_rerun_through_the_proxy(cls, browser):
    tabs = [session(browser, cls, "/convolution") for _ in range(2)]
    assert sorted(replica_of(tab) for tab, _ in tabs) == ["r1", "r2"]  # least busy replica for a new session
    for tab, clock in tabs:
        before = len(clock.latencies())
        slider = tab.locator(SLIDER).first
        slider.focus()
        slider.press("ArrowRight")
        until(lambda: len(clock.latencies()) > before, 30, tab, "a rerun through the proxy")
        wait_for_app(tab)
        assert_no_exception(tab)
        assert replica_of(tab) in ("r1", "r2")
    for tab, _ in tabs:
        tab.context.close()


def test_a_start_on_one_replica_trains_once_and_shows_on_the_other(cls, browser):
    url = training_url("", seed=41, epochs=15, train_size=4000)  # a worker start and ~6 s: watched while it trains
    (a, _), (b, _) = session(browser, cls, url, "r1"), session(browser, cls, url, "r2")
    assert (replica_of(a), replica_of(b)) == ("r1", "r2")
    for tab in (a, b):
        tab.wait_for_selector(PROGRESS, timeout=60_000)  # the live part can arrive after the rest
    assert progress_texts(b)[0].startswith("Not trained yet")
    a.locator(START).click()
    until(lambda: progress_texts(b)[0].startswith(("Epoch", "Waiting", "Done")), 90, b, "the run on the other replica")
    assert progress_texts(b)[0].startswith("Epoch")  # r2 shows the run r1 started, training
    b.locator(START).click()  # the same settings pressed on the other replica: the same run
    for tab in (a, b):
        until(lambda: progress_texts(tab)[0].startswith("Done"), 180, tab, "the run to finish")
        wait_for_app(tab)
        assert "Start was pressed 2 times" in tab.inner_text("[data-testid='stMain']")
        assert_no_exception(tab)
        tab.context.close()
    assert len(list(cls.cache.glob("lenet-*.pt"))) == 1  # trained (and saved) once


def test_a_killed_replica_sends_its_session_to_the_other_and_the_page_reopens(cls, browser):
    path = "/autograd?ag_seed=3&ag_calls=4&ag_pass=forward_again"
    tab, _ = session(browser, cls, path, "r1")
    first = [round(v, 4) for v in backward_calls(3, 4, "forward_again").grads[0]["b"].tolist()]
    shows(tab, f"b.grad = {first}")
    os.kill(cls.replicas()["r1"]["pid"], signal.SIGKILL)  # a crash, not a clean stop
    until(lambda: replica_of(tab) == "r2", 60, tab, "the session to move to r2")
    wait_for_app(tab, timeout=60_000)
    assert_no_exception(tab)
    tab.reload()  # and the page reopens from its URL, on the other replica
    wait_for_app(tab, timeout=60_000)
    assert replica_of(tab) == "r2" and "ag_seed=3" in tab.url
    shows(tab, f"b.grad = {first}")
    assert tab.locator(".st-key-ag_calls input[type='range']").input_value() == "4"
    assert_no_exception(tab)
    tab.context.close()
