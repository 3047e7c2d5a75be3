"""Serve a class from several Streamlit replicas behind HAProxy, training on Ray with --ray.

    .venv/bin/python scripts/serve_class.py --replicas 2 --port 8501          # replicas + HAProxy
    .venv/bin/python scripts/serve_class.py --ray --host 0.0.0.0              # + a Ray head; students connect

Starts N `streamlit run app.py` on free loopback ports, HAProxy on --port in front of them (sticky cookie
lenet_replica, least-busy replica for new sessions, websockets, health checks on /_stcore/health; see
scripts/haproxy_class.cfg) and, with --ray, a loopback-only Ray head that every replica trains on
(LENET_JOB_BACKEND=ray). Prints `serving on http://127.0.0.1:P with N replicas` once every replica is up in
HAProxy, stays in the foreground, restarts a replica that dies, and stops everything it started on Ctrl-C or SIGTERM.
Every replica uses the same LENET_CACHE_DIR (the environment's, else the checkout's .lenet-cache).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import psutil

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "scripts" / "haproxy_class.cfg"
START_TIMEOUT = 180.0  # seconds for every replica (and Ray) to come up on a busy machine
RESTART_PAUSE = 2.0  # seconds before a dead child is started again
MAX_RESTARTS = 5  # per child and per minute; beyond that something is wrong: stop everything
RAY_OBJECT_STORE = 100 * 2**20  # bytes: only records and small state dicts travel through it


def haproxy() -> str | None:
    """HAProxy's executable (Debian installs it in /usr/sbin, which a user's PATH may lack)."""
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Child:
    """A process this script started and looks after (a replica, HAProxy or the Ray head)."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        with open(self.log, "ab") as out:  # a file: a full pipe would block the child
            self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # Ctrl-C reaches us only: we stop them in order

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def family(self) -> list[psutil.Process]:
        """Everything it started (training processes, Ray's workers), while they are still its descendants."""
        try:
            return psutil.Process(self.proc.pid).children(recursive=True) if self.alive else []
        except psutil.Error:
            return []

    def terminate(self) -> None:
        if self.alive:
            self.proc.terminate()

    def wait(self, grace: float) -> None:
        """Up to grace seconds for it to end after terminate(), then SIGKILL."""
        if self.proc is None:
            return
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class ClassServer:
    """N replicas, HAProxy and optionally a Ray head, started and stopped together."""

    def __init__(self, replicas: int, port: int, host: str, ray: bool, logs: Path) -> None:
        self.n, self.port, self.host, self.ray, self.logs = replicas, port, host, ray, logs
        self.socket = logs / "haproxy.sock"
        self.replicas: list[tuple[Child, int]] = []
        self.others: list[Child] = []
        self.stopping = False
        self.ray_dir: Path | None = None  # Ray's own folder: short, its socket paths must fit in 107 bytes
        # The head and every replica: loopback only (see runtime/ray_jobs.py), no usage reports, and a token of this
        # run's own that every connection must show (Ray's token authentication).
        self.ray_env = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0",
                        "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}

    # -- pieces -------------------------------------------------------------------------------------------------
    def replica_env(self, ray_address: str | None) -> dict[str, str]:
        cores = os.cpu_count() or 1
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("LENET_CACHE_DIR", str(ROOT / ".lenet-cache"))  # one folder for every replica
        env.setdefault("LENET_THREADS", str(max(1, cores // self.n)))  # the cores shared out among the replicas
        if ray_address:
            env.update(LENET_JOB_BACKEND="ray", LENET_RAY_ADDRESS=ray_address, **self.ray_env)
            env.setdefault("LENET_MAX_JOBS", str(max(1, cores)))  # runs training at once, in the whole cluster
            env.setdefault("LENET_TRAIN_THREADS", "1")
        else:  # each replica has its own training processes: share the cores out among them too
            env.setdefault("LENET_MAX_JOBS", str(max(1, cores // (2 * self.n))))
        return env

    def ray_head(self) -> tuple[Child, str]:
        gcs = free_port()
        self.ray_dir = Path(tempfile.mkdtemp(prefix="lenet-ray-"))
        ray = Path(sys.executable).with_name("ray")
        cmd = [str(ray), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(gcs),
               "--num-cpus", str(os.cpu_count() or 1), "--object-store-memory", str(RAY_OBJECT_STORE),
               "--include-dashboard", "false", "--include-log-monitor", "false", "--disable-usage-stats",
               "--dashboard-agent-listen-port", str(free_port()), "--temp-dir", str(self.ray_dir)]
        return Child("ray-head", cmd, {**os.environ, **self.ray_env}, self.logs / "ray-head.log"), f"127.0.0.1:{gcs}"

    def haproxy_config(self) -> Path:
        servers = "\n".join(f"    server r{i + 1} 127.0.0.1:{port} cookie r{i + 1}"
                            for i, (_, port) in enumerate(self.replicas))
        text = Template(TEMPLATE.read_text()).substitute(stats_socket=self.socket, bind=self.host, port=self.port,
                                                         servers=servers)
        path = self.logs / "haproxy.cfg"
        path.write_text(text)
        check = subprocess.run([haproxy(), "-c", "-q", "-f", str(path)], capture_output=True, text=True)
        if check.returncode:
            raise SystemExit(f"serve_class: HAProxy refused {path}:\n{check.stdout}{check.stderr}")
        return path

    def write_state(self) -> None:
        """logs/replicas.json: each replica's cookie value, port and pid (for tests and for the curious)."""
        state = {f"r{i + 1}": {"port": port, "pid": child.proc.pid if child.proc else None}
                 for i, (child, port) in enumerate(self.replicas)}
        (self.logs / "replicas.json").write_text(json.dumps(state, indent=1))

    # -- life -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        address = None
        if self.ray:
            head, address = self.ray_head()
            self.others.append(head)
            head.start()
            self.wait_for(lambda: "Ray runtime started" in head.log.read_text(errors="replace"), head, "Ray")
        secret = secrets.token_hex(16)  # the same on every replica: a tab's XSRF cookie survives a move
        env = self.replica_env(address)
        for i in range(self.n):
            port = free_port()
            cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
                   "--server.address", "127.0.0.1", "--server.headless", "true"]
            child = Child(f"r{i + 1}", cmd, {**env, "STREAMLIT_SERVER_COOKIE_SECRET": secret},
                          self.logs / f"replica-r{i + 1}.log")
            child.start()
            self.replicas.append((child, port))
        self.write_state()
        proxy = Child("haproxy", [haproxy(), "-db", "-f", str(self.haproxy_config())], dict(os.environ),
                      self.logs / "haproxy.log")
        self.others.append(proxy)
        proxy.start()
        for child, port in self.replicas:
            self.wait_for(lambda p=port: healthy(f"http://127.0.0.1:{p}"), child, f"replica {child.name}")
        self.wait_for(lambda: set(self.states().values()) == {"UP"}, proxy, "HAProxy's health checks")

    def wait_for(self, ready, child: Child, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and not self.stopping:
            if not child.alive:
                raise SystemExit(f"serve_class: {what} exited during start-up; see {child.log}")
            if ready():
                return
            time.sleep(0.2)
        if not self.stopping:
            raise SystemExit(f"serve_class: {what} not ready after {START_TIMEOUT:.0f} s; see {child.log}")

    def states(self) -> dict[str, str]:
        """Each replica's state as HAProxy sees it (UP, DOWN, ...), from its stats socket."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(self.socket))
                s.sendall(b"show stat\n")
                data = b"".join(iter(lambda: s.recv(65536), b""))
        except OSError:
            return {}
        lines = data.decode().splitlines()
        if not lines:
            return {}
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
        return {r["svname"]: r["status"].split(" ")[0] for r in rows if r.get("pxname") == "replicas"
                and r["svname"] not in ("BACKEND", "FRONTEND")}

    def supervise(self) -> None:
        """Until asked to stop: restart whatever died (HAProxy sends the sessions elsewhere meanwhile)."""
        while not self.stopping:
            for child in [c for c, _ in self.replicas] + self.others:
                if child.alive or self.stopping:
                    continue
                now = time.monotonic()
                child.restarts = [t for t in child.restarts if now - t < 60] + [now]
                if len(child.restarts) > MAX_RESTARTS:
                    raise SystemExit(f"serve_class: {child.name} keeps dying; see {child.log}")
                print(f"serve_class: {child.name} exited (code {child.proc.returncode}); restarting it",
                      file=sys.stderr, flush=True)
                time.sleep(RESTART_PAUSE)
                child.start()
                self.write_state()
            time.sleep(0.5)

    def stop(self) -> None:
        """Replicas first (their sessions close, their training processes stop), then HAProxy and Ray; then
        SIGKILL for anything any of them started that is still there."""
        self.stopping = True
        replicas = [c for c, _ in self.replicas]
        family = [p for child in replicas + self.others for p in child.family()]
        for group, grace in ((replicas, 10.0), (list(reversed(self.others)), 5.0)):
            for child in group:
                child.terminate()
            for child in group:
                child.wait(grace)
        for p in family:
            try:
                p.kill()
            except psutil.Error:
                pass
        if self.ray_dir is not None:
            shutil.rmtree(self.ray_dir, ignore_errors=True)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=os.cpu_count() or 1, help="Streamlit processes (default: cores)")
    ap.add_argument("--port", type=int, default=8501, help="HAProxy's port, the one students open")
    ap.add_argument("--host", default="127.0.0.1", help="HAProxy's address (0.0.0.0: every network interface)")
    ap.add_argument("--ray", action="store_true", help="start a Ray head and train every run on it")
    ap.add_argument("--logs", help="folder for logs, the HAProxy config and replicas.json (default: temporary)")
    args = ap.parse_args()
    if haproxy() is None:
        raise SystemExit("serve_class: HAProxy is not installed (bash scripts/setup.sh --class installs it)")
    logs = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="lenet-class-"))
    logs.mkdir(parents=True, exist_ok=True)
    server = ClassServer(max(1, args.replicas), args.port, args.host, args.ray, logs)

    def ask_to_stop(signum, frame) -> None:
        server.stopping = True

    signal.signal(signal.SIGINT, ask_to_stop)
    signal.signal(signal.SIGTERM, ask_to_stop)
    try:
        server.start()
        if not server.stopping:
            print(f"serving on http://127.0.0.1:{args.port} with {server.n} replicas", flush=True)
            server.supervise()
    finally:
        server.stop()
        if not args.logs:
            shutil.rmtree(logs, ignore_errors=True)


if __name__ == "__main__":
    main()
