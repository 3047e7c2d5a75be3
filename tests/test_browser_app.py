"""Browser: the home page and a deep link on a fresh server, the language switch, a screenshot."""
import re
from pathlib import Path

from conftest import Server, assert_no_exception, wait_for_app
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
    # the language stays when the student moves on through the sidebar
    page.locator("[data-testid='stSidebarNav'] a", has_text="卷积").first.click()
    page.wait_for_url(re.compile(r"/convolution"))
    wait_for_app(page)
    assert "lang=zh" in page.url
    assert HAN.search(page.inner_text("h1"))
    assert_no_exception(page)


def test_deep_link_on_fresh_server(page, tmp_path):
    """Open the last listed page by its URL first thing on a server of its own, in Chinese; a missing MNIST folder
    is a sidebar warning, and the embedded digits are used."""
    spec = PAGES[-1]
    server = Server(env={"LENET_MNIST_DIR": str(tmp_path / "no-mnist-here"), "LENET_CACHE_DIR": str(tmp_path / "c")})
    try:
        page.goto(f"{server.url}/{spec.url_path}?lang=zh")
        wait_for_app(page)
        assert_no_exception(page)
        assert HAN.search(page.inner_text("[data-testid='stMain']"))
        assert "lang=zh" in page.url
        sidebar = page.inner_text("[data-testid='stSidebar']")
        assert "LENET_MNIST_DIR" in sidebar and "内置" in sidebar and "no-mnist-here" in sidebar
        nav = page.inner_text("[data-testid='stSidebarNav']")  # translated titles, never file names
        assert "首页" in nav and ".py" not in nav
        page.screenshot(path=str(SHOTS / f"deeplink_{spec.url_path}.png"), full_page=True)
    finally:
        server.stop()
