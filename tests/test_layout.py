"""The house rules of the README's Layout section, checked on the files themselves: one name per concept across layers,
every cache in lab/cache.py, page drawing under lab/views/, and no import circle between the cache and the UI."""
import ast
import re
from pathlib import Path

import pytest

from lab.nav import PAGES

ROOT = Path(__file__).resolve().parents[1]
NAMES = [Path(p.path).stem for p in PAGES]
COMPUTES_ELSEWHERE = {"home": "lenet"}  # the home page runs LeNet-5 itself: core/lenet.py
CACHE = re.compile(r"@st\.cache_(data|resource)\b")


@pytest.mark.parametrize("name", NAMES)
def test_every_page_has_its_files_under_its_name(name):
    assert (ROOT / "app_pages" / f"{name}.py").exists()
    assert (ROOT / "core" / f"{COMPUTES_ELSEWHERE.get(name, name)}.py").exists()
    assert (ROOT / "lab" / "snippets" / f"{name}.py").exists()
    assert (ROOT / "tests" / f"test_page_{name}.py").exists()


@pytest.mark.parametrize("folder", ["lab/views", "lab/snippets"])
def test_views_and_code_panels_are_named_after_pages(folder):
    for path in (ROOT / folder).glob("*.py"):
        assert path.stem in NAMES or path.stem == "__init__", f"{folder}/{path.name} names no page"


def test_no_suffixed_shell_modules_left():
    assert not [p.name for p in (ROOT / "lab").glob("*.py") if p.stem.endswith(("_views", "_panels"))]


def test_every_cache_lives_in_lab_cache():
    sources = [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py"), *(ROOT / "lab").rglob("*.py")]
    found = [str(p.relative_to(ROOT)) for p in sources
             if CACHE.search(p.read_text()) and p.name != "cache.py"]
    assert found == []


def test_the_cache_does_not_import_the_ui():
    tree = ast.parse((ROOT / "lab" / "cache.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert not {m for m in imported if m.startswith(("lab.ui", "lab.views", "lab.runs"))}
    assert not any(isinstance(n, ast.ImportFrom) and n.module == "lab" and any(a.name in ("ui", "views", "runs")
                                                                               for a in n.names)
                   for n in ast.walk(tree))


def _project_imports(path: Path, packages: tuple[str, ...]) -> set[str]:
    """The project modules a file imports, anywhere in it (deferred imports inside functions count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n for n in names if n.split(".")[0] in packages}
    return found


def test_no_import_circle():
    packages = ("core", "runtime", "lab")
    files = {".".join(p.relative_to(ROOT).with_suffix("").parts): p
             for pkg in packages for p in (ROOT / pkg).rglob("*.py")}
    modules = {name.removesuffix(".__init__"): path for name, path in files.items()}
    graph = {name: {m for m in _project_imports(path, packages) if m in modules and m != name}
             for name, path in modules.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                raise AssertionError("import circle: " + " -> ".join(trail[trail.index(dep):] + [dep]))
            if dep not in state:
                visit(dep, trail + [dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
