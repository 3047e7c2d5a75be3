"""Server settings from the environment: a typo in a number is ignored with a console note, never a crash; the number
of trainings at once never exceeds the cores."""
import dataclasses
from pathlib import Path

import pytest

from runtime.settings import ROOT, SETTINGS, Settings


def test_defaults():
    s = Settings.from_env({}, cores=8)
    assert (s.threads, s.max_jobs, s.train_threads) == (2, 2, 1)
    assert (s.mnist_dir, s.cache_dir, s.device) == (None, ROOT / ".lenet-cache", "auto")
    assert Settings.from_env({}, cores=1).max_jobs == 1  # one core: one training at a time


def test_malformed_numbers_fall_back(capsys):
    s = Settings.from_env({"LENET_MAX_JOBS": "two", "LENET_THREADS": "-3", "LENET_TRAIN_THREADS": "1.5"}, cores=2)
    assert (s.max_jobs, s.train_threads) == (2, max(1, s.threads // 2))
    err = capsys.readouterr().err
    assert "LENET_MAX_JOBS='two'" in err and "LENET_THREADS='-3'" in err and "LENET_TRAIN_THREADS='1.5'" in err


def test_numbers_paths_and_device_are_used():
    env = {"LENET_MAX_JOBS": "3", "LENET_THREADS": "6", "LENET_TRAIN_THREADS": "", "LENET_CACHE_DIR": "/srv/lenet",
           "LENET_MNIST_DIR": "/data", "LENET_DEVICE": " cuda "}
    s = Settings.from_env(env, cores=8)
    assert (s.threads, s.max_jobs, s.train_threads) == (6, 3, 2)
    assert (s.cache_dir, s.mnist_dir, s.device) == (Path("/srv/lenet"), "/data", "cuda")


@pytest.mark.parametrize("cores", [1, 2, 4])
def test_max_jobs_is_capped_at_the_core_count_with_a_note(cores):
    notes = []
    s = Settings.from_env({"LENET_MAX_JOBS": "200"}, cores=cores, note=notes.append)
    assert s.max_jobs == cores and s.train_threads >= 1
    assert len(notes) == 1 and "LENET_MAX_JOBS=200" in notes[0] and f"using {cores}" in notes[0]
    quiet = []
    assert Settings.from_env({"LENET_MAX_JOBS": str(cores)}, cores=cores, note=quiet.append).max_jobs == cores
    assert quiet == []  # as many as the cores is fine


def test_the_cap_reaches_the_console(capsys):
    Settings.from_env({"LENET_MAX_JOBS": "99"}, cores=2)
    assert "LENET_MAX_JOBS=99" in capsys.readouterr().err


def test_settings_are_frozen_and_hashable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SETTINGS.max_jobs = 5  # read once: change them with dataclasses.replace (lab.cache.use_settings)
    assert hash(dataclasses.replace(SETTINGS, max_jobs=1)) == hash(dataclasses.replace(SETTINGS, max_jobs=1))


def test_a_test_can_run_with_other_settings_and_gets_the_servers_back():
    from lab import cache

    before = cache.settings()
    with cache.use_settings(mnist_dir="/nowhere") as changed:
        assert cache.settings() is changed and changed.mnist_dir == "/nowhere" and not cache.mnist_available()
    assert cache.settings() is before


def test_device_and_backend_words():
    notes = []
    s = Settings.from_env({"LENET_DEVICE": "CUDA:1", "LENET_JOB_BACKEND": "ray", "LENET_RAY_ADDRESS": "10.0.0.5:6379"},
                          note=notes.append)
    assert (s.device, s.job_backend, s.ray_address) == ("cuda:1", "ray", "10.0.0.5:6379") and notes == []
    s = Settings.from_env({"LENET_DEVICE": "gpu", "LENET_JOB_BACKEND": "spark", "LENET_RAY_ADDRESS": ""},
                          note=notes.append)
    assert (s.device, s.job_backend, s.ray_address) == ("auto", "local", "local")
    assert any("LENET_DEVICE='gpu'" in n for n in notes) and any("LENET_JOB_BACKEND='spark'" in n for n in notes)
