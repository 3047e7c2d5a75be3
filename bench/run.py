"""All benchmarks in one command: prints a table and writes BENCHMARKS.md.

    .venv/bin/python -m bench.run            # everything (about 10-15 minutes)
    .venv/bin/python -m bench.run --quick    # skip the 20-session browser load test and the upload memory test
    .venv/bin/python -m bench.run --only server_cpu,cold_start --out /tmp/b.md   # some sections only
    .venv/bin/python -m bench.run --class    # only the scale-out: HAProxy with 1 and 2 replicas, local pool vs Ray
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import pkgutil
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import torch  # noqa: E402

Rows = list[tuple[str, str, str]]  # (section, measure, value)
HEAVY = ("load", "uploads")  # the sections --quick skips


def machine() -> str:
    """One line describing where the numbers were measured."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads)")


def fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def area_benchmarks() -> Rows:
    """Every bench/bench_*.py module's run() -> dict."""
    rows: Rows = []
    for info in sorted(pkgutil.iter_modules([str(ROOT / "bench")]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        section = info.name.removeprefix("bench_")
        try:
            module = importlib.import_module(f"bench.{info.name}")
            for key, value in module.run().items():
                rows.append((section, key, fmt(value)))
        except Exception as exc:  # a broken benchmark is reported, not hidden
            rows.append((section, "FAILED", f"{type(exc).__name__}: {exc}"))
            traceback.print_exc()
    return rows


def page_reruns() -> Rows:
    """Each page's rerun time after its first slider (or number input) changes, in AppTest (no browser)."""
    from streamlit.testing.v1 import AppTest

    from lab.nav import PAGES

    rows: Rows = []
    for spec in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["lang"] = "en"
        at.run()
        at.switch_page(spec.path)
        at.run()
        widgets = list(at.slider) or list(at.number_input)
        if not widgets:
            rows.append(("page rerun", spec.url_path, "no slider"))
            continue
        first = widgets[0]
        kind, key, a = ("slider" if list(at.slider) else "number_input"), first.key, first.value
        step = first.step or 1
        b = a + step if first.max is None or a + step <= first.max else a - step
        if isinstance(a, tuple):  # a range slider: move its upper end
            b = (a[0], a[1] - step)
        times = []
        for i in range(4):  # alternate between two values, keep the fastest of four reruns
            widget = getattr(at, kind)(key=key) if key else getattr(at, kind)[0]
            widget.set_value(b if i % 2 == 0 else a)
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
        rows.append(("page rerun", f"{spec.url_path} ({first.label[:30]})", f"{min(times) * 1000:.0f} ms"))
    return rows


def browser_reruns(moves: int = 6) -> Rows:
    """Each page in headless Chromium: its first slider moved back and forth, slider press to the server's
    'script finished' (from the websocket frames), median and worst of `moves`; the server idle otherwise."""
    import statistics

    from bench.bench_training_latency import measure
    from bench.browser_load import RerunClock
    from lab.nav import PAGES
    from support import server_and_browser, wait_for_app

    rows: Rows = []
    slider = "[data-testid='stSlider'] input[type='range']"
    with server_and_browser() as (srv, browser, _):
        for spec in PAGES:
            tab = browser.new_page(viewport={"width": 1300, "height": 900})
            clock = RerunClock()
            clock.attach(tab)
            tab.goto(f"{srv.url}/{'' if spec.url_path == 'home' else spec.url_path}")
            wait_for_app(tab, timeout=120_000)
            try:  # a page's sliders can arrive after its first text settles
                tab.wait_for_selector(slider, timeout=5_000)
            except Exception:
                pass
            if not tab.locator(slider).count():
                rows.append(("browser rerun", spec.url_path, "no slider"))
            else:
                lat = measure(tab, clock, moves)
                rows.append(("browser rerun", spec.url_path,
                             f"median {statistics.median(lat) * 1000:.0f} ms, worst {max(lat) * 1000:.0f} ms"))
            tab.close()
    return rows


def cpu_seconds(proc) -> float:
    """The server process's CPU so far (user + system, all its threads; not its training processes)."""
    t = proc.cpu_times()
    return t.user + t.system


def settle(proc, quiet: float = 0.03, window: float = 1.0, timeout: float = 180.0) -> float:
    """Wait until the server spends under `quiet` CPU seconds in a `window`-second window (its start-up and warm-up
    done); the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        before = cpu_seconds(proc)
        time.sleep(window)
        if cpu_seconds(proc) - before < quiet:
            break
    return time.perf_counter() - started


def server_cpu(blocks: int = 3, block: int = 4) -> Rows:
    """Server CPU per slider move on every page, as a multiple of a bare page's (bench/bare_app.py: one slider, one
    28x28 Plotly heatmap) measured in the same run; the first session of a fresh server; and each page's first visit (a
    new session) once that first session's warm-up has settled. Headless Chromium; the CPU is the streamlit process's
    (psutil: all its threads, not its training processes)."""
    import statistics

    import psutil

    from bench.bench_training_latency import measure
    from bench.browser_load import RerunClock
    from lab.nav import PAGES
    from support import server_and_browser, wait_for_app

    slider = "[data-testid='stSlider'] input[type='range']"

    def open_tab(browser, url: str):
        tab = browser.new_page(viewport={"width": 1300, "height": 900})
        clock = RerunClock()
        clock.attach(tab)
        tab.goto(url)
        wait_for_app(tab, timeout=120_000)
        try:  # a page's sliders can arrive after its first text settles
            tab.wait_for_selector(slider, timeout=5_000)
        except Exception:
            pass
        return tab, clock

    def per_move(tab, clock, proc) -> float | None:
        """The median over `blocks` of a block's CPU / its moves (psutil counts CPU in 10 ms ticks, about a move)."""
        if not tab.locator(slider).count():
            return None
        costs: list[float] = []
        for _ in range(blocks):
            before = cpu_seconds(proc)
            measure(tab, clock, block)
            costs.append((cpu_seconds(proc) - before) / block)
        return statistics.median(costs)

    rows: Rows = []
    with server_and_browser(app=ROOT / "bench" / "bare_app.py") as (srv, browser, _):
        proc = psutil.Process(srv.proc.pid)
        settle(proc)
        tab, clock = open_tab(browser, srv.url)
        per_move(tab, clock, proc)  # the first moves pay one-off costs (imports, first figure)
        bare = per_move(tab, clock, proc)
    rows.append(("server CPU", "bare page (1 slider, 28x28 heatmap): per slider move", f"{bare * 1000:.1f} ms"))

    started = time.perf_counter()
    ratios: list[float] = []
    with server_and_browser() as (srv, browser, _):
        proc = psutil.Process(srv.proc.pid)
        settle(proc)
        before = cpu_seconds(proc)
        tab, _ = open_tab(browser, srv.url)  # the first session imports torch and starts the warm-up (lab/cache.py)
        rows.append(("server CPU", "first session of a fresh server (home)", f"{cpu_seconds(proc) - before:.2f} s"))
        settle(proc)
        rows.append(("server CPU", "start, first session and warm-up until settled",
                     f"{time.perf_counter() - started:.1f} s wall, {cpu_seconds(proc):.1f} s CPU"))
        tab.close()
        for spec in PAGES:
            before = cpu_seconds(proc)
            tab, clock = open_tab(browser, f"{srv.url}/{'' if spec.url_path == 'home' else spec.url_path}")
            first = cpu_seconds(proc) - before
            move = per_move(tab, clock, proc)
            tab.close()
            if move is None:
                rows.append(("server CPU", spec.url_path, f"first visit {first:.2f} s; no slider"))
                continue
            ratios.append(move / bare)
            rows.append(("server CPU", spec.url_path, f"first visit {first:.2f} s; slider move {move * 1000:.0f} ms "
                                                     f"= {move / bare:.1f}x bare"))
    rows.append(("server CPU", "slider move vs bare: median page, worst page",
                 f"{statistics.median(ratios):.1f}x, {max(ratios):.1f}x (targets 1.5x, 3x)"))
    return rows


def cold_start(times: int = 3) -> Rows:
    """Server start to the first painted page (title visible) in headless Chromium, median and worst of `times` fresh
    servers. The browser is open before the server starts, as a teacher's is: its own start-up (about a second here)
    is not the server's (it was counted in before 2026-12-02, which made 4.1 s read as 6.4-7.2 s)."""
    import statistics

    from playwright.sync_api import sync_playwright

    from support import CHROMIUM, CHROMIUM_ARGS, Server

    painted = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(times):
            tab = browser.new_page()
            started = time.perf_counter()
            srv = Server()
            try:
                tab.goto(srv.url)
                tab.wait_for_selector("h1", timeout=120_000)
                painted.append(time.perf_counter() - started)
            finally:
                srv.stop()
            tab.close()
        browser.close()
    return [("cold start", f"server start to first painted page ({times} fresh servers, browser already open)",
             f"median {statistics.median(painted):.2f} s, worst {max(painted):.2f} s")]


def load(sessions: int) -> Rows:
    """The multi-session browser load test; its problems (exceptions, thread growth...) become a FAILED row."""
    from bench import browser_load

    rows: Rows = []
    # First as in class (the browsers stand in for the students' laptops: nice 19), then the worst case of every
    # browser on the server's own two cores (the slider burst only: the tab-closing cycles ran in the first pass).
    for section, laptops, cycles in (("load", True, 20), ("load, browsers on the server", False, 0)):
        result = browser_load.run(sessions=sessions, close_cycles=cycles, laptops=laptops)
        rows += [(section, k, fmt(v)) for k, v in result.items()]
        found = browser_load.problems(result)
        if found:
            rows.append((section, "FAILED", "; ".join(found)))
    return rows


def scale_out(sessions: int) -> Rows:
    """The burst through HAProxy with 1 and 2 replicas, and training runs per minute, local pool vs Ray."""
    from bench import class_load

    result = class_load.run(sessions=sessions)
    rows = [("class", k, fmt(v)) for k, v in result.items()]
    found = class_load.problems(result)
    if found:
        rows.append(("class", "FAILED", "; ".join(found)))
    return rows


def uploads() -> Rows:
    """Ten browser sessions each uploading a 4096² picture, and one session: server memory (bench/upload_memory.py)."""
    from bench import upload_memory

    results = upload_memory.run()
    rows = [("uploads", name, upload_memory.summary(res)) for name, res in results.items()]
    found = upload_memory.problems(results)
    if found:
        rows.append(("uploads", "FAILED", "; ".join(found)))
    return rows


def write(rows: Rows, path: Path, command: str = ".venv/bin/python -m bench.run") -> None:
    lines = ["# Benchmarks", "", f"Measured {dt.datetime.now():%Y-%m-%d %H:%M} on: {machine()}.", "",
             f"Regenerate with `{command}` (see README).", "",
             "| section | measure | value |", "| --- | --- | --- |"]
    lines += [f"| {s} | {m} | {v} |" for s, m, v in rows]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description="LeNet Lab benchmarks")
    ap.add_argument("--quick", action="store_true", help="skip the multi-session browser load and upload tests")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--only", default="", help="comma-separated sections to run (area, page_reruns, browser_reruns, "
                    "server_cpu, cold_start, load, uploads), e.g. --only server_cpu,cold_start --out /tmp/b.md")
    ap.add_argument("--class", dest="scale", action="store_true",
                    help="only the scale-out measurements (bench/class_load.py), written to BENCHMARKS_CLASS.md")
    ap.add_argument("--out", default=None, help="default: BENCHMARKS.md (BENCHMARKS_CLASS.md with --class)")
    args = ap.parse_args()
    args.out = args.out or str(ROOT / ("BENCHMARKS_CLASS.md" if args.scale else "BENCHMARKS.md"))
    torch.set_num_threads(int(os.environ.get("LENET_THREADS", "0")) or min(2, os.cpu_count() or 1))
    rows: Rows = []
    sections = {"area": area_benchmarks, "page_reruns": page_reruns, "browser_reruns": browser_reruns,
                "server_cpu": server_cpu, "cold_start": cold_start, "load": lambda: load(args.sessions),
                "uploads": uploads}
    chosen = args.only.split(",") if args.only else [k for k in sections if not (args.quick and k in HEAVY)]
    steps = tuple(sections[k] for k in chosen)
    if args.scale:
        steps = (lambda: scale_out(args.sessions),)
    for step in steps:
        try:
            rows += step()
        except Exception as exc:
            rows.append((getattr(step, "__name__", "load"), "FAILED", f"{type(exc).__name__}: {exc}"))
            traceback.print_exc()
    width = max(len(m) for _, m, _ in rows)
    for s, m, v in rows:
        print(f"{s:12s} {m:{width}s} {v}")
    write(rows, Path(args.out), ".venv/bin/python -m bench.run" + (" --class" if args.scale else ""))
    print(f"\nwrote {args.out}")
    failed = [f"{s}: {v}" for s, m, v in rows if m == "FAILED"]
    if failed:
        print("\nFAILED:\n  " + "\n  ".join(failed), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
