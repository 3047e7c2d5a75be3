"""Browser: the code panel's notebook download, clicked for real (Streamlit builds the file on the click): a valid
nbformat v4 notebook in the UI's language whose code cells are the code the panel shows."""
import nbformat
import pytest

from conftest import HAN, assert_no_exception, translated, wait_for_app
from test_notebook import code_lines

pytestmark = pytest.mark.slow


def test_code_panel_downloads_its_notebook(server, page):
    lang = "zh"  # the notes, the title and the panel's comments all in Chinese (English: tests/test_page_notebook.py)
    page.goto(f"{server.url}/softmax?lang={lang}&sm_temp=2.0")
    wait_for_app(page)
    assert_no_exception(page)
    panel = page.locator("[data-testid='stExpander']").filter(has_text=translated(lang, "app.code_panel")).first
    panel.locator("summary").click()
    shown = panel.locator("[data-testid='stCode'] code").inner_text()
    button = panel.get_by_role("button", name=translated(lang, "notebook.download"))
    with page.expect_download(timeout=60_000) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "losses.ipynb"
    nb = nbformat.reads(open(download.path(), encoding="utf-8").read(), as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4 and nb.metadata.kernelspec.name == "python3"
    cells = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and c.source != "print(result)")
    assert [line.rstrip() for line in code_lines(cells)] == [line.rstrip() for line in code_lines(shown)]
    intro = nb.cells[0].source
    assert intro.startswith(f"# {translated(lang, 'nav.softmax')}") and "(sm_temp) | `2.0` |" in intro
    assert all(HAN.search(c.source) for c in nb.cells if c.cell_type == "markdown")
    assert_no_exception(page)  # the click did not break the page (on_click="ignore": no rerun either)
