"""The training lab's code panel runs as plain PyTorch and reproduce the app's own numbers."""
import pytest
import torch

from core.data import load_digits
from core.training import TrainConfig, run_to_end
from lab.snippets.training import training_script


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.mark.parametrize("cfg", [
    TrainConfig(epochs=2, train_size=256),
    *(pytest.param(cfg, marks=pytest.mark.slow) for cfg in (  # more trainings of the same script: the full suite
        TrainConfig(epochs=2, train_size=256, activation="tanh", optimizer="sgd", lr=0.05, dropout=0.3,
                    normalize=False, pooling="avg", seed=4),
        TrainConfig(epochs=3, train_size=192, optimizer="sgd", lr=0.5, patience=1, mistake="optimizer_in_loop"),
        TrainConfig(epochs=1, train_size=192, mistake="softmax_before_loss", optimizer="rmsprop", weight_decay=1e-3),
        TrainConfig(epochs=2, train_size=128, optimizer="sgd", lr=1e4),  # diverges
    )),
    TrainConfig(epochs=1, train_size=192, conv1_channels=2, conv2_channels=4, kernel_size=3, fc1_units=20, fc2_units=12,
                conv1_padding=0),  # a network of one's own design
], ids=["default", "tanh-sgd-dropout", "early-stop-bug", "softmax-bug", "diverges", "own-design"])
def test_training_script_reproduces_each_epoch(digits, cfg):
    namespace: dict = {}
    exec(training_script(cfg), namespace)
    epochs, _ = run_to_end(cfg, digits)
    assert namespace["result"] == pytest.approx([e.test_acc for e in epochs], abs=1e-6)
