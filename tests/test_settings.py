"""Server settings from the environment: a typo in a number is ignored with a console note, never a crash."""
import importlib

from lab import settings


def reload_with(monkeypatch, **env: str):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return importlib.reload(settings)


def test_malformed_numbers_fall_back(monkeypatch, capsys):
    s = reload_with(monkeypatch, LENET_MAX_JOBS="two", LENET_THREADS="-3", LENET_TRAIN_THREADS="1.5")
    assert (s.MAX_JOBS, s.TRAIN_THREADS) == (2, max(1, s.THREADS // 2))
    err = capsys.readouterr().err
    assert "LENET_MAX_JOBS='two'" in err and "LENET_THREADS='-3'" in err and "LENET_TRAIN_THREADS='1.5'" in err


def test_numbers_are_used(monkeypatch):
    s = reload_with(monkeypatch, LENET_MAX_JOBS="3", LENET_THREADS="6", LENET_TRAIN_THREADS="")
    assert (s.THREADS, s.MAX_JOBS, s.TRAIN_THREADS) == (6, 3, 2)


def teardown_module():
    importlib.reload(settings)  # the environment is restored by monkeypatch; the module follows it


def test_device_and_backend_words(monkeypatch, capsys):
    s = reload_with(monkeypatch, LENET_DEVICE="CUDA:1", LENET_JOB_BACKEND="ray", LENET_RAY_ADDRESS="10.0.0.5:6379")
    assert (s.DEVICE, s.JOB_BACKEND, s.RAY_ADDRESS) == ("cuda:1", "ray", "10.0.0.5:6379")
    s = reload_with(monkeypatch, LENET_DEVICE="gpu", LENET_JOB_BACKEND="spark", LENET_RAY_ADDRESS="")
    assert (s.DEVICE, s.JOB_BACKEND, s.RAY_ADDRESS) == ("auto", "local", "local")
    err = capsys.readouterr().err
    assert "LENET_DEVICE='gpu'" in err and "LENET_JOB_BACKEND='spark'" in err
