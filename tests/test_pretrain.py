"""scripts/pretrain.py: the page's preset runs, saved where and how the app looks for them; a second run skips them."""
import importlib.util
from pathlib import Path

import pytest

from conftest import run_app
from core.training import TrainConfig
from lab import cache
from runtime.checkpoints import CheckpointStore
from runtime.jobs import JobManager

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--presets", "tanh_relu", "--epochs", "1", "--train-size", "100", "--dataset", "embedded"]


def load_script():
    spec = importlib.util.spec_from_file_location("pretrain", ROOT / "scripts" / "pretrain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pretrained")
    assert load_script().main([*TINY, "--cache-dir", str(folder)]) == 0
    return folder


def test_presets_expand_like_the_page():
    script = load_script()
    base = script.page_base_config("embedded")
    assert base == TrainConfig()  # the page's untouched controls
    assert len(script.configs_for(["grid"], base)) == 4
    assert set(script.configs_for(["tanh_relu", "sgd_adam"], base)) <= set(script.configs_for(["grid"], base))


def test_runs_are_saved_and_a_second_call_skips_them(pretrained, capsys):
    files = sorted(p.name for p in pretrained.iterdir())
    assert len(files) == 2 and all(f.startswith("lenet-") for f in files)
    mtimes = {p: p.stat().st_mtime_ns for p in pretrained.iterdir()}
    assert load_script().main([*TINY, "--cache-dir", str(pretrained)]) == 0
    out = capsys.readouterr().out
    assert out.count("skip") == 2 and "test accuracy" in out
    assert {p: p.stat().st_mtime_ns for p in pretrained.iterdir()} == mtimes


def test_the_apps_job_store_finds_them(pretrained):
    mgr = JobManager(cache.dataset, 1, CheckpointStore(pretrained))  # a fresh server on the same folder
    for act in ("tanh", "relu"):
        view = mgr.view(TrainConfig(activation=act, epochs=1, train_size=100))
        assert view is not None and view.from_disk and view.usable and view.saved


@pytest.mark.slow  # starts the app's worker processes
def test_the_training_page_shows_them_without_training(pretrained):
    with cache.use_settings(cache_dir=pretrained):
        at = run_app("en", page="app_pages/training.py", params={"tr_ep": 1, "tr_n": 100})
        texts = [p.proto.text for p in at.get("progress")]
        assert len(texts) == 2 and all("Done: test accuracy" in t and "loaded from disk" in t for t in texts), texts
        assert not at.exception
