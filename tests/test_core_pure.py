"""The core and the runtime stay pure: no module in core/ or runtime/ imports Streamlit or the shell, and outside the
Streamlit shell (app.py, app_pages/, lab/) nothing imports Streamlit."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE, RUNTIME = ROOT / "core", ROOT / "runtime"
SHELL = {"app.py", "app_pages", "lab"}  # the Streamlit shell
# These drive the app from outside and may import Streamlit: AppTest (streamlit.testing), a `streamlit run`
# subprocess, Streamlit's websocket messages (bench/browser_load.py). Nothing in the app imports them.
DRIVERS = {"tests", "bench"}


def imported(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (a deferred import counts too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def offenders(files: list[Path], banned: set[str]) -> list[str]:
    return [f"{p.relative_to(ROOT)}: {n}" for p in files for n in sorted(imported(p)) if n.split(".")[0] in banned]


def test_core_never_imports_streamlit_the_runtime_or_the_shell():
    files = sorted(CORE.glob("*.py"))
    assert len(files) >= 3
    assert offenders(files, {"streamlit", "runtime", "lab", "app_pages"}) == []


def test_runtime_never_imports_streamlit_or_the_shell():
    files = sorted(RUNTIME.glob("*.py"))
    assert {"jobs.py", "workers.py", "checkpoints.py", "settings.py"} <= {p.name for p in files}
    assert offenders(files, {"streamlit", "lab", "app_pages"}) == []


def test_nothing_outside_the_shell_imports_streamlit():
    top = [p for p in ROOT.iterdir() if not p.name.startswith(".") and p.name not in SHELL | DRIVERS]
    files = sorted(f for p in top for f in ([p] if p.suffix == ".py" else p.rglob("*.py") if p.is_dir() else []))
    assert {"core", "runtime", "scripts"} <= {f.relative_to(ROOT).parts[0] for f in files}
    assert offenders(files, {"streamlit"}) == []


def test_importing_the_runtime_loads_no_streamlit():
    """Transitively too: a training process imports runtime.workers, and must not pay for Streamlit."""
    code = ("import sys; import runtime.jobs, runtime.workers, runtime.checkpoints, runtime.settings; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'streamlit', 'lab', 'app_pages'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
