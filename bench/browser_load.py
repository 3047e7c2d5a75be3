"""Many real browser sessions against one server: slider-to-updated-page latency, memory, exceptions, threads.

Only 127.0.0.1 is contacted; every loop is bounded in count and time. Usage:
    .venv/bin/python -m bench.browser_load --sessions 20 --rounds 5
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from support import CHROMIUM, CHROMIUM_ARGS, Server, wait_for_app  # noqa: E402

EXPLAINER_PAGES = ("convolution", "pooling", "activations", "softmax", "optimizers", "home")


@dataclass
class RerunClock:
    """Times each rerun a tab asks for (BackMsg rerun_script) until the server says the script finished."""

    sent: list[float] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)

    def attach(self, tab) -> None:
        def on_ws(ws):
            ws.on("framesent", self._sent)
            ws.on("framereceived", self._received)
        tab.on("websocket", on_ws)

    def _sent(self, payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            msg = BackMsg()
            try:
                msg.ParseFromString(bytes(payload))
            except Exception:
                return
            if msg.WhichOneof("type") == "rerun_script":
                self.sent.append(time.perf_counter())

    def _received(self, payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            msg = ForwardMsg()
            try:
                msg.ParseFromString(bytes(payload))
            except Exception:
                return
            if msg.WhichOneof("type") == "script_finished":
                self.finished.append(time.perf_counter())

    def latencies(self) -> list[float]:
        """Each rerun request paired with the first script_finished after it, in seconds."""
        out, j = [], 0
        for t0 in self.sent:
            while j < len(self.finished) and self.finished[j] < t0:
                j += 1
            if j < len(self.finished):
                out.append(self.finished[j] - t0)
                j += 1
        return out


def server_stats(proc: psutil.Process) -> tuple[float, int]:
    """Resident memory (MB) and thread count of the server process."""
    return proc.memory_info().rss / 2**20, proc.num_threads()


def wait_reruns(tab, clocks: list[RerunClock], expected: list[int], timeout: float) -> None:
    """Pump the browser (sync Playwright only delivers events inside its own calls) until every tab has
    seen its expected number of finished reruns."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(len(c.latencies()) >= n for c, n in zip(clocks, expected)):
            return
        tab.wait_for_timeout(20)


def available_pages() -> list[str]:
    from lab.nav import PAGES

    built = {p.url_path for p in PAGES}
    return [("" if p == "home" else p) for p in EXPLAINER_PAGES if p in built]  # home is the default page: "/"


def start_trainings(browser, url: str, count: int) -> list:
    """Open the training page in `count` tabs and start one distinct small run in each (see bench/training hooks)."""
    from bench.training_ui import start_training  # written with the training page; raises if it cannot

    return [start_training(browser, url, seed=100 + i) for i in range(count)]


def run(sessions: int = 20, rounds: int = 5, trainings: int = 2, close_cycles: int = 20) -> dict[str, float]:
    """The load test; returns the numbers for BENCHMARKS.md."""
    from playwright.sync_api import sync_playwright

    srv = Server()
    proc = psutil.Process(srv.proc.pid)
    result: dict[str, float] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            first = browser.new_page()
            first.goto(srv.url)
            wait_for_app(first)
            result["memory_idle_mb"], _ = server_stats(proc)
            train_tabs = start_trainings(browser, srv.url, trainings) if trainings else []
            pages = available_pages()
            tabs, clocks = [], []
            for i in range(sessions):
                ctx = browser.new_context(viewport={"width": 1200, "height": 900})
                tab = ctx.new_page()
                clock = RerunClock()
                clock.attach(tab)
                tab.goto(f"{srv.url}/{pages[i % len(pages)]}")
                tabs.append(tab)
                clocks.append(clock)
            for tab in tabs:
                wait_for_app(tab, timeout=120_000)
            base = [len(c.latencies()) for c in clocks]
            for r in range(rounds):
                for tab in tabs:
                    slider = tab.locator("[data-testid='stSlider'] input[type='range']").first
                    slider.focus()
                    slider.press("ArrowRight")
                wait_reruns(tabs[0], clocks, [b + r + 1 for b in base], timeout=60)
            lat = [x for c, b in zip(clocks, base) for x in c.latencies()[b:]]
            result["sessions"] = sessions
            result["slider_samples"] = len(lat)
            result["slider_p50_s"] = statistics.median(lat) if lat else float("nan")
            result["slider_p95_s"] = statistics.quantiles(lat, n=20)[-1] if len(lat) >= 20 else max(lat, default=float("nan"))
            result["memory_with_sessions_mb"], _ = server_stats(proc)
            result["sessions_with_exception"] = sum(
                t.locator("[data-testid='stException']").count() > 0 or "Traceback" in t.inner_text("body") for t in tabs)
            for tab in tabs:
                tab.context.close()
            # Closing tabs mid-training must not leak threads.
            _, threads_before = server_stats(proc)
            for i in range(close_cycles):
                ctx = browser.new_context()
                tab = ctx.new_page()
                tab.goto(f"{srv.url}/{'training' if trainings else pages[0]}")
                wait_for_app(tab, timeout=120_000)
                ctx.close()
            time.sleep(3)
            _, threads_after = server_stats(proc)
            result["threads_before_close_cycles"] = threads_before
            result["threads_after_close_cycles"] = threads_after
            result["memory_after_training_mb"], _ = server_stats(proc)
            for tab in train_tabs:
                tab.context.close()
            browser.close()
    finally:
        srv.stop()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--trainings", type=int, default=2)
    ap.add_argument("--close-cycles", type=int, default=20)
    args = ap.parse_args()
    for k, v in run(args.sessions, args.rounds, args.trainings, args.close_cycles).items():
        print(f"{k:32s} {v:.3f}" if isinstance(v, float) else f"{k:32s} {v}")


if __name__ == "__main__":
    main()
