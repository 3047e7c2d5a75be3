"""Browser: the home page and a deep link on a fresh server, the language switch, a screenshot."""
import re
from pathlib import Path

from conftest import assert_no_exception, wait_for_app
from lab.nav import PAGES

SHOTS = Path(__file__).parent / "screenshots"
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_home_and_language_switch(server, page):
    page.goto(server.url)
    wait_for_app(page)
    assert_no_exception(page)
    assert "LeNet Lab" in page.inner_text("[data-testid='stMain']")
    assert "61,706" in page.inner_text("[data-testid='stMain']")
    page.get_by_role("radio", name="简体中文").click()
    page.wait_for_function("() => document.querySelector('h1') && /看卷积/.test(document.querySelector('h1').innerText)")
    wait_for_app(page)
    assert "lang=zh" in page.url
    assert HAN.search(page.inner_text("[data-testid='stSidebar']"))
    assert_no_exception(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "home_zh.png"), full_page=True)


def test_deep_link_on_fresh_server(server, page):
    """Open the last listed page by its URL first thing on a fresh server, in Chinese."""
    spec = PAGES[-1]
    page.goto(f"{server.url}/{spec.url_path}?lang=zh")
    wait_for_app(page)
    assert_no_exception(page)
    assert HAN.search(page.inner_text("[data-testid='stMain']"))
    assert "lang=zh" in page.url
    if len(PAGES) > 1:  # the sidebar lists translated titles, never file names
        nav = page.inner_text("[data-testid='stSidebarNav']")
        assert "首页" in nav and ".py" not in nav
    page.screenshot(path=str(SHOTS / f"deeplink_{spec.url_path}.png"), full_page=True)
