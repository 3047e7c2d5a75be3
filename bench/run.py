"""All benchmarks in one command: prints a table and writes BENCHMARKS.md.

    .venv/bin/python -m bench.run            # everything (about 5-10 minutes)
    .venv/bin/python -m bench.run --quick    # skip the 20-session browser load test
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


def cold_start() -> Rows:
    """Server start to the first painted page (title visible) in headless Chromium."""
    from playwright.sync_api import sync_playwright

    from support import CHROMIUM, CHROMIUM_ARGS, Server

    started = time.perf_counter()
    srv = Server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            tab = browser.new_page()
            tab.goto(srv.url)
            tab.wait_for_selector("h1", timeout=120_000)
            painted = time.perf_counter() - started
            browser.close()
    finally:
        srv.stop()
    return [("cold start", "server start to first painted page", f"{painted:.2f} s")]


def load(sessions: int) -> Rows:
    """The multi-session browser load test; its problems (exceptions, thread growth...) become a FAILED row."""
    from bench import browser_load

    result = browser_load.run(sessions=sessions)
    rows = [("load", k, fmt(v)) for k, v in result.items()]
    found = browser_load.problems(result)
    if found:
        rows.append(("load", "FAILED", "; ".join(found)))
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


def write(rows: Rows, path: Path) -> None:
    lines = ["# Benchmarks", "", f"Measured {dt.datetime.now():%Y-%m-%d %H:%M} on: {machine()}.", "",
             "Regenerate with `.venv/bin/python -m bench.run` (see README).", "",
             "| section | measure | value |", "| --- | --- | --- |"]
    lines += [f"| {s} | {m} | {v} |" for s, m, v in rows]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description="LeNet Lab benchmarks")
    ap.add_argument("--quick", action="store_true", help="skip the multi-session browser load test")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--class", dest="scale", action="store_true",
                    help="only the scale-out measurements (bench/class_load.py), written to BENCHMARKS_CLASS.md")
    ap.add_argument("--out", default=None, help="default: BENCHMARKS.md (BENCHMARKS_CLASS.md with --class)")
    args = ap.parse_args()
    args.out = args.out or str(ROOT / ("BENCHMARKS_CLASS.md" if args.scale else "BENCHMARKS.md"))
    torch.set_num_threads(int(os.environ.get("LENET_THREADS", "0")) or min(2, os.cpu_count() or 1))
    rows: Rows = []
    steps = (area_benchmarks, page_reruns, browser_reruns, cold_start) + (() if args.quick else (lambda: load(args.sessions),))
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
    write(rows, Path(args.out))
    print(f"\nwrote {args.out}")
    failed = [f"{s}: {v}" for s, m, v in rows if m == "FAILED"]
    if failed:
        print("\nFAILED:\n  " + "\n  ".join(failed), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
