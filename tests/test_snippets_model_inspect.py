"""The inside-a-trained-model page's code panel loads a saved run and reproduces the app's own numbers."""
import pytest

from core.checkpoint import Checkpoint, data_fingerprint, save_checkpoint
from core.data import load_digits
from core.model_inspect import confusion_matrix, predict
from core.training import TrainConfig, run_to_end
from lab.snippets.model_inspect import inspect_script


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_inspect_script_reads_the_checkpoint(tmp_path, digits):
    cfg = TrainConfig(epochs=1, train_size=256, seed=2)
    epochs, done = run_to_end(cfg, digits)
    fp = data_fingerprint(digits)
    path = save_checkpoint(tmp_path, Checkpoint(config=cfg, model=done.model, epochs=tuple(epochs), losses=(), batches_per_epoch=4,
                                                     reason=done.reason, epochs_run=1, best_epoch=1, diverged_step=None,
                                                     seconds=0.1), fp)
    namespace: dict = {}
    exec(inspect_script(cfg, str(path)), namespace)
    preds = predict(done.model, digits.test_images, digits.test_labels)
    accuracy, confusion = namespace["result"]
    assert accuracy == pytest.approx(preds.accuracy, abs=1e-6)
    assert confusion == confusion_matrix(preds.labels, preds.predicted).tolist()
