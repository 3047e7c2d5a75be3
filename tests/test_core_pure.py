"""The core stays pure: no module in core/ imports Streamlit."""
import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core"


def test_core_never_imports_streamlit():
    offenders = []
    for path in sorted(CORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert offenders == []
    assert len(list(CORE.glob("*.py"))) >= 3
