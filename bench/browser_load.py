"""Many real browser sessions against one server: slider-to-updated-page latency, memory, exceptions, threads.

Only 127.0.0.1 is contacted; every loop is bounded in count and time. Usage:
    .venv/bin/python -m bench.browser_load --sessions 20 --rounds 5

Two long trainings are started once the sessions are loaded and their state is recorded when the slider rounds
start and end (they must be running at the start); memory "after a training" is read once they are done; then
20 times a tab starts a small run, waits until it trains and is closed, and the server's threads are counted after
each close. Exits non-zero (LoadTestFailed) on exception elements, thread growth beyond THREAD_MARGIN, trainings
that were not running during the measurements, or slider rounds that timed out.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from support import CHROMIUM, CHROMIUM_ARGS, Server, wait_for_app  # noqa: E402

THREAD_MARGIN = 4  # server threads allowed to differ between the first close and the settled end
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


def worker_stats(proc: psutil.Process) -> tuple[int, float, int]:
    """The server's child processes (training workers): how many, their memory (MB) and threads together."""
    count, mb, threads = 0, 0.0, 0
    for child in proc.children(recursive=True):
        try:
            mb += child.memory_info().rss / 2**20
            threads += child.num_threads()
            count += 1
        except psutil.Error:  # exited meanwhile
            pass
    return count, mb, threads


def wait_reruns(tab, clocks: list[RerunClock], expected: list[int], timeout: float) -> bool:
    """Pump the browser (sync Playwright only delivers events inside its own calls) until every tab has
    seen its expected number of finished reruns; False if the time ran out first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(len(c.latencies()) >= n for c, n in zip(clocks, expected)):
            return True
        tab.wait_for_timeout(20)
    return False


def available_pages() -> list[str]:
    from lab.nav import PAGES

    built = {p.url_path for p in PAGES}
    return [("" if p == "home" else p) for p in EXPLAINER_PAGES if p in built]  # home is the default page: "/"


def open_sessions(browser, url: str, sessions: int, timeout_ms: float = 120_000) -> tuple[list, list[RerunClock]]:
    """`sessions` new browser sessions spread over the explainer pages, each with its rerun clock, once loaded."""
    pages = available_pages()
    tabs, clocks = [], []
    for i in range(sessions):
        tab = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        clock = RerunClock()
        clock.attach(tab)
        tab.goto(f"{url}/{pages[i % len(pages)]}")
        tabs.append(tab)
        clocks.append(clock)
    for tab in tabs:
        wait_for_app(tab, timeout=timeout_ms)
    return tabs, clocks


def run_state(tab) -> str:
    """One training tab's run: "running", "queued", "done" or "other" (from its progress line, in English)."""
    from bench.training_ui import progress_texts

    try:
        text = " ".join(progress_texts(tab))
    except Exception:  # the tab is being redrawn
        return "other"
    if "Epoch" in text:
        return "running"
    if "queue" in text:
        return "queued"
    if "Done" in text or "Stopped early" in text or "Diverged" in text:
        return "done"
    return "other"


def start_trainings(browser, url: str, count: int) -> list:
    """Open the training page in `count` tabs and start one distinct long run in each (30 epochs of 4,000 digits)."""
    from bench.training_ui import start_training  # written with the training page; raises if it cannot

    return [start_training(browser, url, seed=100 + i) for i in range(count)]


def wait_states(tabs: list, wanted: tuple[str, ...], timeout: float) -> list[str]:
    """Poll the tabs (their fragments redraw every second) until each shows one of the wanted states, or time out."""
    deadline = time.time() + timeout
    states = [run_state(t) for t in tabs]
    while time.time() < deadline and not all(s in wanted for s in states):
        tabs[0].wait_for_timeout(500)
        states = [run_state(t) for t in tabs]
    return states


def close_mid_training(browser, url: str, proc: psutil.Process, cycles: int, timeout: float) -> dict[str, object]:
    """Open the training page, press Start on a small distinct run, wait until it trains, close the tab; repeat.
    The server's thread count is read after every close."""
    from bench.training_ui import start_training

    threads, seen = [], {"running": 0, "queued": 0, "done": 0, "other": 0}
    deadline = time.time() + timeout
    for i in range(cycles):
        if time.time() > deadline:
            break
        tab = start_training(browser, url, seed=500 + i, epochs=3, train_size=1000, timeout=60_000)
        state = wait_states([tab], ("running", "done"), timeout=20)[0]  # queued behind another run: wait a little
        seen[state] += 1
        tab.context.close()
        time.sleep(0.3)  # let the server notice the closed websocket
        threads.append(server_stats(proc)[1])
    time.sleep(3)
    settled = server_stats(proc)[1]
    return {"close_cycles": len(threads), "closed_while_running": seen["running"],
            "closed_while_queued": seen["queued"], "closed_after_done": seen["done"] + seen["other"],
            "threads_after_first_close": threads[0] if threads else 0,
            "threads_after_last_close": threads[-1] if threads else 0,
            "threads_max_during_closes": max(threads, default=0), "threads_settled_after_closes": settled,
            "thread_growth": (settled - threads[0]) if threads else 0}


class LoadTestFailed(AssertionError):
    """The load test saw exceptions, leaked threads, or could not measure what it claims."""


def problems(result: dict[str, object], thread_margin: int = THREAD_MARGIN) -> list[str]:
    """What is wrong with a result: exception elements, thread growth, trainings that did not overlap, timeouts."""
    out = []
    if result.get("sessions_with_exception", 0):
        out.append(f"{result['sessions_with_exception']} session(s) showed an exception")
    if result.get("thread_growth", 0) > thread_margin:
        out.append(f"server threads grew by {result['thread_growth']} over {result.get('close_cycles')} closes "
                   f"(first {result.get('threads_after_first_close')}, max {result.get('threads_max_during_closes')})")
    if result.get("trainings", 0) and result.get("trainings_running_at_start", 0) < result["trainings"]:
        out.append("the background trainings were not all running when the slider measurements started")
    if result.get("slider_timeouts", 0):
        out.append(f"{result['slider_timeouts']} slider round(s) timed out")
    return out


def nice_browsers(server: int) -> int:
    """Lower the whole client side of this test to nice 19 - the Chromium processes, Playwright's driver (every
    websocket frame of every tab passes through it) and this process - leaving the server and its trainings alone:
    in a class the browsers run on the students' laptops, so here they stand in for them. Conservative: a client
    slowed down notices a finished rerun later, never sooner. Returns how many processes were lowered (renderers start
    with their tabs: call it after opening them)."""
    spared = {server, *(c.pid for c in psutil.Process(server).children(recursive=True))}
    found = 0
    for proc in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            if proc.pid not in spared:
                proc.nice(19)
                found += 1
        except psutil.Error:  # ended meanwhile
            pass
    return found


def run(sessions: int = 20, rounds: int = 5, trainings: int = 2, close_cycles: int = 20,
        budget: float = 900.0, laptops: bool = False) -> dict[str, object]:
    """The load test; returns the numbers for BENCHMARKS.md (check them with problems()). Bounded by `budget` s.
    laptops: the browsers run at nice 19, standing in for the students' own machines (nice_browsers); else they
    compete with the server for its cores, as if the whole class browsed on the server itself (the worst case)."""
    from playwright.sync_api import sync_playwright

    cache_dir = tempfile.mkdtemp(prefix="lenet-load-")  # no checkpoints of earlier runs: every run really trains
    srv = Server(env={"LENET_CACHE_DIR": cache_dir})
    proc = psutil.Process(srv.proc.pid)
    result: dict[str, object] = {}
    deadline = time.time() + budget
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            first = browser.new_page()
            first.goto(srv.url)
            wait_for_app(first)
            result["memory_idle_mb"], result["threads_idle"] = server_stats(proc)
            first.context.close()
            tabs, clocks = open_sessions(browser, srv.url, sessions)
            # The trainings start once every session is loaded, so that they run during the slider rounds.
            train_tabs = start_trainings(browser, srv.url, trainings) if trainings else []
            at_start = wait_states(train_tabs, ("running",), timeout=30) if train_tabs else []
            result["browsers"] = f"nice 19, standing in for laptops ({nice_browsers(proc.pid)} processes)" if laptops \
                else "on the server's cores"
            result["trainings"] = trainings
            result["trainings_running_at_start"] = at_start.count("running")
            measure_started = time.perf_counter()
            cpu_started = sum(proc.cpu_times()[:2])  # the server process itself (user + system), not its workers
            base = [len(c.latencies()) for c in clocks]
            timeouts = 0
            for r in range(rounds):
                for tab in tabs:
                    slider = tab.locator("[data-testid='stSlider'] input[type='range']").first
                    slider.focus()
                    slider.press("ArrowRight" if r % 2 == 0 else "ArrowLeft")  # back and forth: never stuck at max
                left = max(5.0, min(60.0, deadline - time.time()))
                timeouts += not wait_reruns(tabs[0], clocks, [b + r + 1 for b in base], timeout=left)
            result["measure_seconds"] = time.perf_counter() - measure_started
            server_cpu = sum(proc.cpu_times()[:2]) - cpu_started
            at_end = [run_state(t) for t in train_tabs]
            result["trainings_running_at_end"] = at_end.count("running")
            result["training_states_start_end"] = f"{','.join(at_start) or '-'} -> {','.join(at_end) or '-'}"
            lat = [x for c, b in zip(clocks, base) for x in c.latencies()[b:]]
            result["sessions"] = sessions
            result["slider_samples"] = len(lat)
            result["slider_expected"] = sessions * rounds
            result["slider_timeouts"] = timeouts
            result["server_cpu_s_per_rerun"] = server_cpu / len(lat) if lat else float("nan")  # for sizing
            result["slider_p50_s"] = statistics.median(lat) if lat else float("nan")
            result["slider_p95_s"] = statistics.quantiles(lat, n=20)[-1] if len(lat) >= 20 else max(lat, default=float("nan"))
            result["memory_with_sessions_mb"], result["threads_with_sessions"] = server_stats(proc)
            result["sessions_with_exception"] = sum(
                t.locator("[data-testid='stException']").count() > 0 or "Traceback" in t.inner_text("body") for t in tabs)
            for tab in tabs:
                tab.context.close()
            if train_tabs:  # memory after a training: once the trainings have finished (bounded wait)
                waited = time.perf_counter()
                ends = wait_states(train_tabs, ("done",), timeout=max(10.0, min(300.0, deadline - time.time())))
                result["trainings_done"] = ends.count("done")
                result["training_wait_s"] = time.perf_counter() - waited
                result["sessions_with_exception"] += sum(t.locator("[data-testid='stException']").count() > 0
                                                         for t in train_tabs)
                for tab in train_tabs:
                    tab.context.close()
                time.sleep(1)
            result["memory_after_training_mb"], _ = server_stats(proc)
            result["workers"], result["workers_memory_mb"], _ = worker_stats(proc)
            if close_cycles:  # closing tabs mid-training must not leak threads
                result.update(close_mid_training(browser, srv.url, proc, close_cycles,
                                                 timeout=max(30.0, deadline - time.time())))
            browser.close()
    finally:
        srv.stop()
        shutil.rmtree(cache_dir, ignore_errors=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--trainings", type=int, default=2)
    ap.add_argument("--close-cycles", type=int, default=20)
    ap.add_argument("--budget", type=float, default=900.0, help="seconds the whole test may take (about)")
    ap.add_argument("--laptops", action="store_true", help="browsers at nice 19, standing in for students' laptops")
    args = ap.parse_args()
    result = run(args.sessions, args.rounds, args.trainings, args.close_cycles, args.budget, args.laptops)
    for k, v in result.items():
        print(f"{k:32s} {v:.3f}" if isinstance(v, float) else f"{k:32s} {v}")
    found = problems(result)
    if found:
        raise LoadTestFailed("; ".join(found))
    print("OK: no exception elements, no thread growth, trainings overlapped the measurements")


if __name__ == "__main__":
    main()
