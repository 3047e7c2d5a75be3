"""Each background warm-up (lab.cache.WARM_UPS) calls exactly what its page calls with the page's defaults: a first
visit after it makes no cache miss but on the figure caches (a warm-up computes results, it does not draw)."""
import pytest
from streamlit.runtime.caching.cache_utils import CachedFunc

from conftest import run_app
from lab import cache

pytestmark = pytest.mark.usefixtures("fresh_manager", "app_started")

DRAWN = {"view_figure", "pipeline_traces", "run_curves"}  # figure caches: drawn by the first visit
PAGES = {"home": None, "image_tensor": "app_pages/image_tensor.py", "model_building": "app_pages/model_building.py",
         "optimizers": "app_pages/optimizers.py", "activations": "app_pages/activations.py",
         "train_eval": "app_pages/train_eval.py",
         "pitfalls": "app_pages/pitfalls.py"}
SLOW = {"dataset": "app_pages/dataset.py"}  # trains a one-epoch model


@pytest.fixture(scope="module")
def app_started(fresh_manager):
    """What app.py computes once per server (torch's set-up, the catalogs), done before the counting starts."""
    run_app("en", page="app_pages/conv.py")


def misses() -> dict[str, int]:
    """Cache misses so far of every st.cache_* function of lab.cache."""
    return {name: f._metrics._misses for name, f in vars(cache).items() if isinstance(f, CachedFunc)}


def test_every_warm_up_is_started():
    assert {w.__name__.removeprefix("warm_") for w in cache.WARM_UPS} == set(PAGES) | set(SLOW)


@pytest.mark.parametrize("name", list(PAGES) + [pytest.param(n, marks=pytest.mark.slow) for n in SLOW])
def test_first_visit_after_warm_up_misses_nothing(name):
    getattr(cache, f"warm_{name}")()
    before = misses()
    at = run_app("en", page={**PAGES, **SLOW}[name])
    assert not at.exception, at.exception
    missed = {k: v - before.get(k, 0) for k, v in misses().items() if v > before.get(k, 0) and k not in DRAWN}
    assert not missed, f"warm_{name} computed other settings than the page's defaults: {missed}"
