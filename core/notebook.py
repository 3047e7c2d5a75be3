"""Open as a notebook: a code panel's script as Jupyter cells with short explanations, and running one (nbclient)."""
from __future__ import annotations

import ast
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from core.errors import LabError
from core.i18n import Catalog, translate

MARKER = "# %%"  # a line starting with it (the "percent" cell format) starts a new cell; "# %% data" names its note
KERNEL = "python3"
CONTINUATIONS = ("else", "elif", "except", "finally")  # a top-level line that must stay with the block above it
NOTES = ("data", "model", "result", "imports", "helpers", "compute", "print")  # keys under [notebook.cell]


@dataclass(frozen=True)
class Block:
    """A cell's worth of code and the catalog key of the note above it."""

    code: str
    note: str  # a key under [notebook.cell]


@dataclass(frozen=True)
class NotebookRun:
    """What an executed notebook printed: the stdout of each code cell, in order."""

    outputs: tuple[str, ...]

    @property
    def text(self) -> str:
        """Everything printed, top to bottom."""
        return "".join(self.outputs)


def _parses(lines: list[str]) -> bool:
    """True when the lines are a complete piece of Python (no open bracket, string or block header)."""
    try:
        ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    return True


def _starts_top_level(lines: list[str], i: int) -> bool:
    """True when the next non-blank line after line i is at column 0 and can begin a cell of its own."""
    rest = [line for line in lines[i + 1 :] if line.strip()]
    if not rest:
        return False
    nxt = rest[0]
    return not nxt[0].isspace() and nxt.split(":")[0].split()[0] not in CONTINUATIONS and not nxt.startswith(")")


def _note(code: str) -> str:
    """The note a block gets from what it does: loads data, defines a class, sets result, only imports..."""
    tree = ast.parse(code)
    body = tree.body
    names = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
             for target in node.targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    if {"train_images", "test_images"} & names:
        return "data"
    if any(isinstance(node, ast.ClassDef) for node in body):
        return "model"
    if "result" in names:
        return "result"
    if body and all(isinstance(node, (ast.Import, ast.ImportFrom)) for node in body):
        return "imports"
    if any(isinstance(node, ast.FunctionDef) for node in body):
        return "helpers"
    return "compute"


def split_blocks(script: str) -> list[Block]:
    """Cells at explicit markers, and at blank lines where the code so far is complete and the next is top-level."""
    lines, blocks, current, named = script.splitlines(), [], [], None

    def close() -> None:
        code = "\n".join(current).strip("\n")
        if code.strip():
            blocks.append(Block(code, named if named in NOTES else _note(code)))

    for i, line in enumerate(lines):
        if line.startswith(MARKER):
            close()
            current, named = [], line[len(MARKER):].strip() or None
        elif not line.strip() and current and _parses(current) and _starts_top_level(lines, i):
            close()
            current, named = [], None
        else:
            current.append(line)
    close()
    return blocks


def build_notebook(script: str, catalog: Catalog, title: str, settings: Sequence[tuple[str, object]] = (),
                   fallback: Catalog | None = None, data_cell: str | None = None) -> nbformat.NotebookNode:
    """An nbformat v4 notebook: a title, the settings, each block under its note, and a last cell printing `result`.
    data_cell: code that defines data the script reads (a file's bytes, carried so the notebook needs nothing else),
    run first and shown folded: it is one long line."""
    t = lambda key: translate(catalog, key, fallback)  # noqa: E731 - a local shorthand
    intro = [f"# {title}", t("notebook.intro")]
    if settings:
        rows = "\n".join(f"| {name} | `{value}` |" for name, value in settings)
        intro.append(f"| {t('notebook.setting')} | {t('notebook.value')} |\n| --- | --- |\n{rows}")
    if "LENET_MNIST_DIR" in script:
        intro.append(t("notebook.needs_mnist"))
    cells = [new_markdown_cell("\n\n".join(intro))]
    if data_cell is not None:
        cells += [new_markdown_cell(t("notebook.cell.carried")),
                  new_code_cell(data_cell, metadata={"jupyter": {"source_hidden": True}})]
    for block in split_blocks(script):
        cells += [new_markdown_cell(t(f"notebook.cell.{block.note}")), new_code_cell(block.code)]
    if "result" in script:
        cells += [new_markdown_cell(t("notebook.cell.print")), new_code_cell("print(result)")]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"  # stable ids: the same page and settings give the same file
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})


def notebook_bytes(nb: nbformat.NotebookNode) -> bytes:
    """The .ipynb file to download (UTF-8 JSON)."""
    return nbformat.writes(nb).encode("utf-8")


def run_notebook(nb: nbformat.NotebookNode, timeout: float = 300.0) -> NotebookRun:
    """Execute top to bottom in a fresh kernel of this interpreter (ipykernel's own spec, offline); stdout per cell."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.from_dict(nb)  # a copy: the outputs go there, never into the caller's notebook
    with tempfile.TemporaryDirectory(prefix="lenet-notebook-") as tmp:
        root = Path(tmp)
        write_kernel_spec(root / "kernels" / KERNEL)  # argv = this interpreter, so torch is the app's torch
        km = AsyncKernelManager(kernel_name=KERNEL, connection_file=str(root / "connection.json"), transport="ipc",
                                ip=str(root / "ipc"),  # Unix sockets in the temporary folder: no TCP port opened
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(root / "kernels")]))
        client = NotebookClient(nb, km=km, timeout=timeout, kernel_name=KERNEL, resources={"metadata": {"path": tmp}})
        env = {**os.environ, "IPYTHONDIR": str(root / "ipython")}  # leave no profile behind in the user's home
        try:
            client.execute(cleanup_kc=True, env=env)  # cleanup_kc: shut the kernel down even though km is ours
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            raise LabError("notebook.failed", error=getattr(exc, "ename", type(exc).__name__),
                           detail=str(getattr(exc, "evalue", exc))[:300]) from exc
    return NotebookRun(tuple("".join(o.get("text", "") for o in cell.get("outputs", [])
                                     if o.get("output_type") == "stream" and o.get("name") == "stdout")
                             for cell in nb.cells if cell.cell_type == "code"))
