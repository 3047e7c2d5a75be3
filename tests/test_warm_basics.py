"""The warm-up functions of the home, image-to-tensor, dataset and model-building pages: each computes its page's
defaults once, a second call costs (almost) nothing, and a first visit after them finds everything cached."""
import time

import pytest

from conftest import run_app
from lab import cache

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fresh_manager")]  # the dataset's trains a one-epoch model

PAGES = {"home": None, "image_tensor": "app_pages/image_tensor.py", "dataset": "app_pages/dataset.py",
         "model_building": "app_pages/model_building.py"}


@pytest.mark.parametrize("name", list(PAGES))
def test_warm_twice_then_visit(name):
    warm = getattr(cache, f"warm_{name}")
    warm()
    started = time.process_time()
    warm()
    assert time.process_time() - started < 0.1
    started = time.process_time()
    at = run_app("en", page=PAGES[name])
    assert not at.exception, at.exception
    assert time.process_time() - started < 1.0  # a first visit once the server has warmed the page
