"""Browser: deep links to the optimizer page (a preset, bad learning rates typed into the URL) and the play button,
which only a real browser runs (run_every fragments do not fire in AppTest)."""
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import assert_no_exception, wait_for, wait_for_app
from core.optim_paths import optimizer_path

HAN = re.compile(r"[\u4e00-\u9fff]")
STEP = ".st-key-opt_at input[type='range']"  # the step slider's thumb


def main_text(tab) -> str:
    return tab.inner_text("[data-testid='stMain']")


def step_value(tab) -> int:
    return int(tab.locator(STEP).input_value())


def test_chinese_deep_link_to_a_preset_on_a_fresh_server(server, page):
    page.goto(f"{server.url}/optimizers?lang=zh&opt_preset=too_big")
    wait_for_app(page)
    assert_no_exception(page)
    text = main_text(page)
    step = optimizer_path("bowl", "sgd", (-4.5, 2.0), 100, lr=0.55).diverged_at
    assert f"在第 {step} 步发散" in text and HAN.search(text)
    assert "opt_preset=too_big" in page.url


@pytest.mark.parametrize("value, shown", [("-0.5", "-0.5"), ("0", "0"), ("nan", None), ("fast", None)])
def test_bad_learning_rate_in_the_url_is_a_message(server, page, value, shown):
    page.goto(f"{server.url}/optimizers?lang=en&opt_lr0={value}")
    wait_for_app(page)
    assert_no_exception(page)
    text = main_text(page)
    if shown is not None:  # a number Streamlit accepts reaches core, which explains why it is refused
        assert f"The learning rate must be a positive number (got {float(shown)})" in text
    else:  # not a number at all: the widget keeps a valid value and the page works
        assert "Inside the optimizer" in text
    assert "Mini-batch noise on real digits" in text


def test_play_advances_the_step_without_freezing_the_page(server, page):
    page.goto(f"{server.url}/optimizers?lang=en&opt_preset=bowl")
    wait_for_app(page)
    assert step_value(page) == 100
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => { const s = document.querySelector(\".st-key-opt_at input[type='range']\");"
                           " return s && +s.value > 0 && +s.value < 100; }",
                           timeout=20_000, polling=100)
    first = step_value(page)
    wait_for(lambda: step_value(page) > first, 20, "the step to move on")  # the fragment reruns, the page is not blocked
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=20_000)  # the rerun after Pause has drawn
    wait_for_app(page)
    paused = step_value(page)
    with pytest.raises(PlaywrightTimeout):  # and no tick moves it any more: three fragment periods (0.5 s) watched
        page.wait_for_function(f"() => +document.querySelector(\"{STEP}\").value !== {paused}", timeout=1500,
                               polling=100)
    assert step_value(page) == paused and 0 < paused < 100
    assert_no_exception(page)
