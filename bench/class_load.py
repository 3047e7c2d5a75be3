"""Past one machine, measured: the 20-session slider burst through HAProxy with 1 and with 2 replicas (same run,
same machine), and training runs finished per minute with the local process pool and with Ray on the same cores.

    .venv/bin/python -m bench.class_load --sessions 20 --rounds 5

Only 127.0.0.1 is contacted. The replicas and HAProxy are started by scripts/serve_class.py, exactly as for a class.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench.browser_load import nice_browsers, open_sessions, wait_reruns  # noqa: E402
from support import CHROMIUM, CHROMIUM_ARGS, free_port, wait_for_app  # noqa: E402

SLIDER = "[data-testid='stSlider'] input[type='range']"


@contextmanager
def serve_class(replicas: int, ray: bool = False) -> Iterator[tuple[str, int]]:
    """scripts/serve_class.py on a free port with a fresh checkpoint folder: (its URL, its pid), stopped at the end."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="lenet-class-bench-") as folder:
        cmd = [sys.executable, str(ROOT / "scripts" / "serve_class.py"), "--replicas", str(replicas),
               "--port", str(port)] + (["--ray"] if ray else [])
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "LENET_CACHE_DIR": folder},
                                stdout=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline().strip()
            if not line.startswith("serving on"):
                raise RuntimeError(f"serve_class did not start: {line!r}")
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(90)


def burst(browser, url: str, sessions: int, rounds: int, budget: float = 600.0, server: int | None = None
          ) -> dict[str, object]:
    """`sessions` new browser sessions on the explainer pages; every session moves a slider at once, `rounds` times;
    slider press to finished rerun, p50 / p95, plus where the sessions landed. With the pid of the server (HAProxy and
    its replicas below it), the client side runs at nice 19 during the rounds, standing in for the students' laptops
    (bench.browser_load.nice_browsers): the two cores are then the servers', as in class."""
    deadline = time.time() + budget
    tabs, clocks = open_sessions(browser, url, sessions, timeout_ms=180_000)
    for tab in tabs:
        tab.wait_for_selector(SLIDER, state="attached", timeout=60_000)  # a page's sliders can arrive after its first text settles
    lowered = nice_browsers(server) if server is not None else 0
    base = [len(c.latencies()) for c in clocks]
    timeouts = 0
    for r in range(rounds):
        for tab in tabs:
            slider = tab.locator(SLIDER).first
            slider.focus()
            slider.press("ArrowRight" if r % 2 == 0 else "ArrowLeft")
        left = max(5.0, min(120.0, deadline - time.time()))
        timeouts += not wait_reruns(tabs[0], clocks, [b + r + 1 for b in base], timeout=left)
    lat = [x for c, b in zip(clocks, base) for x in c.latencies()[b:]]
    landed: dict[str, int] = {}
    for tab in tabs:
        replica = next((c["value"] for c in tab.context.cookies() if c["name"] == "lenet_replica"), "?")
        landed[replica] = landed.get(replica, 0) + 1
    exceptions = sum(t.locator("[data-testid='stException']").count() > 0 for t in tabs)
    load = os.getloadavg()[0]  # other work on the machine skews every number here: say how much there was
    for tab in tabs:
        tab.context.close()
    return {"p50_s": statistics.median(lat) if lat else float("nan"),
            "p95_s": statistics.quantiles(lat, n=20)[-1] if len(lat) >= 20 else max(lat, default=float("nan")),
            "samples": len(lat), "expected": sessions * rounds, "timeouts": timeouts, "exceptions": exceptions,
            "sessions_per_replica": ", ".join(f"{k}: {v}" for k, v in sorted(landed.items())),
            "load_average_1min_after": round(load, 1),
            "browsers": f"nice 19, standing in for laptops ({lowered} processes)" if lowered else "on the server's cores"}


def replicas_burst(sessions: int = 20, rounds: int = 5) -> dict[str, object]:
    """The burst through HAProxy with 1 and with 2 replicas, one after the other; the p95 ratio."""
    from playwright.sync_api import sync_playwright

    out: dict[str, object] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for n in (1, 2):
                with serve_class(n) as (url, pid):
                    for key, value in burst(browser, url, sessions, rounds, server=pid).items():
                        out[f"{n} replica{'s' if n > 1 else ''}: {key}"] = value
        finally:
            browser.close()
    out["p95 ratio, 2 replicas / 1"] = out["2 replicas: p95_s"] / out["1 replica: p95_s"]
    out["p50 ratio, 2 replicas / 1"] = out["2 replicas: p50_s"] / out["1 replica: p50_s"]
    return out


def training_rate(backend: str, runs: int = 8, slots: int = 2, epochs: int = 3) -> dict[str, object]:
    """Runs finished per minute: `runs` distinct LeNet-5 runs (epochs x 4,000 digits) queued at once on `slots`
    one-thread training slots, after one warm-up run (processes started, torch imported)."""
    from core.data import load_digits
    from core.training import TrainConfig

    digits = load_digits()
    if backend == "ray":
        from runtime.ray_jobs import RayJobManager

        mgr = RayJobManager(digits, None, "local", slots=slots, threads=1, device="cpu")
    else:
        from runtime.jobs import JobManager
        from runtime.workers import WorkerPool

        mgr = JobManager(data=digits, max_parallel=slots, store=None, pool=WorkerPool(slots, threads=1, device="cpu"))

    def finish(configs, timeout=900.0) -> None:
        for cfg in configs:
            mgr.submit(cfg)
        deadline = time.time() + timeout
        while time.time() < deadline:
            views = [mgr.view(c) for c in configs]
            if all(v is not None and not v.active for v in views):
                if any(v.status != "done" for v in views):
                    raise RuntimeError(f"{backend}: runs ended {[v.status for v in views]}")
                return
            time.sleep(0.1)
        raise RuntimeError(f"{backend}: runs did not finish in {timeout:.0f} s")

    try:
        started = time.perf_counter()
        finish([TrainConfig(epochs=1, train_size=4000, seed=900 + i) for i in range(slots)])  # warm-up
        cold = time.perf_counter() - started
        started = time.perf_counter()
        finish([TrainConfig(epochs=epochs, train_size=4000, seed=1000 + i) for i in range(runs)])
        seconds = time.perf_counter() - started
    finally:
        if backend == "ray":
            import ray

            ray.kill(mgr.table())
        mgr.shutdown()
    return {f"{backend}: runs per minute": runs / seconds * 60, f"{backend}: seconds for {runs} runs": seconds,
            f"{backend}: warm-up seconds": cold}


def kind(proc: psutil.Process) -> str:
    """Which part of the class a process is (by its command line)."""
    cmd = " ".join(proc.cmdline())
    for needle, name in (("streamlit run", "replica (Streamlit + Ray client)"), ("haproxy", "HAProxy"),
                         ("ray::JobTable", "Ray job table (actor)"), ("ray::train_run", "Ray training task"),
                         ("ray::IDLE", "Ray idle worker"), ("ray", "Ray head (GCS, raylet, agents)")):
        if needle in cmd:
            return name
    return "other"


def footprint(epochs: int = 30) -> dict[str, object]:
    """Resident memory of each part of serve_class.py --ray: 2 replicas, a session on each, one run training."""
    from playwright.sync_api import sync_playwright

    from bench.training_ui import start_training
    from bench.browser_load import run_state

    out: dict[str, object] = {}
    with serve_class(2, ray=True) as (url, pid), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = start_training(browser, url, seed=777, epochs=epochs, timeout=120_000)
            other = browser.new_context().new_page()
            other.goto(f"{url}/convolution")
            wait_for_app(other, timeout=120_000)
            deadline = time.time() + 120
            while run_state(tab) != "running" and time.time() < deadline:
                tab.wait_for_timeout(500)
            parts: dict[str, list[float]] = {}
            for proc in psutil.Process(pid).children(recursive=True):
                try:
                    parts.setdefault(kind(proc), []).append(proc.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
            for name, mbs in sorted(parts.items()):
                out[f"memory: {name}"] = f"{sum(mbs):.0f} MB in {len(mbs)} process(es)"
            out["memory: all of it"] = f"{sum(sum(m) for m in parts.values()):.0f} MB"
        finally:
            browser.close()
    return out


def run(sessions: int = 20, rounds: int = 5) -> dict[str, object]:
    """Everything, for bench.run --class."""
    out = replicas_burst(sessions, rounds)
    out.update(footprint())
    for backend in ("local", "ray"):
        out.update(training_rate(backend))
    return out


def problems(result: dict[str, object]) -> list[str]:
    """Exceptions or timeouts in either burst."""
    return [f"{k} = {v}" for k, v in result.items() if k.endswith(("timeouts", "exceptions")) and v]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    result = run(args.sessions, args.rounds)
    for k, v in result.items():
        print(f"{k:40s} {v:.3f}" if isinstance(v, float) else f"{k:40s} {v}")
    if problems(result):
        raise SystemExit("; ".join(problems(result)))


if __name__ == "__main__":
    main()
