"""The training lab's code panels run as plain PyTorch and reproduce the app's own numbers."""
import pytest
import torch

from core.checkpoint import Checkpoint, data_fingerprint, save_checkpoint
from core.data import load_digits
from core.evaluation import confusion_matrix, predict
from core.training import TrainConfig, run_to_end
from lab.snippets.training import inspect_script, training_script


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
], ids=["default", "tanh-sgd-dropout", "early-stop-bug", "softmax-bug", "diverges"])
def test_training_script_reproduces_each_epoch(digits, cfg):
    namespace: dict = {}
    exec(training_script(cfg), namespace)
    epochs, _ = run_to_end(cfg, digits)
    assert namespace["result"] == pytest.approx([e.test_acc for e in epochs], abs=1e-6)


def test_inspect_script_reads_the_checkpoint(tmp_path, digits):
    cfg = TrainConfig(epochs=1, train_size=256, seed=2)
    epochs, done = run_to_end(cfg, digits)
    fp = data_fingerprint(digits)
    path = save_checkpoint(tmp_path, Checkpoint(cfg, done.model, tuple(epochs), (), 4, done.reason, 1, 1, None, 0.1), fp)
    namespace: dict = {}
    exec(inspect_script(cfg, str(path)), namespace)
    preds = predict(done.model, digits.test_images, digits.test_labels)
    accuracy, confusion = namespace["result"]
    assert accuracy == pytest.approx(preds.accuracy, abs=1e-6)
    assert confusion == confusion_matrix(preds.labels, preds.predicted).tolist()
