"""Analysis of a trained model, checked against torch and hand-computed values."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data import to_model_input
from core.errors import LabError
from core.model_inspect import (Predictions, confusion_matrix, digit_probabilities, feature_maps, filter_change,
                             misclassified, per_class_accuracy, predict, tile_maps, top_confusions)
from core.lenet import build_lenet
from core.training import TrainConfig, evaluate, run_to_end


SMALL = (512, 300)  # training / test digits of the small fixture (conftest)


@pytest.fixture(scope="module")
def trained(small):
    return run_to_end(TrainConfig(epochs=2, train_size=512), small)[1].model


def test_confusion_matrix_by_hand():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    said = torch.tensor([0, 1, 1, 2, 0, 2])
    cm = confusion_matrix(labels, said, classes=3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert per_class_accuracy(cm).tolist() == pytest.approx([0.5, 1.0, 2 / 3])
    assert top_confusions(cm, 5) == [(0, 1, 1), (2, 0, 1)]


def test_absent_digit_has_nan_accuracy():
    cm = confusion_matrix(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 0]), classes=3)
    acc = per_class_accuracy(cm)
    assert acc[0] == 0.5 and acc[1] == 0.0 and math.isnan(acc[2])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=200))
def test_confusion_matrix_counts_every_pair(pairs):
    labels, said = (torch.tensor(x) for x in zip(*pairs))
    cm = confusion_matrix(labels, said)
    assert int(cm.sum()) == len(pairs)
    assert int(cm.trace()) == int((labels == said).sum())
    for a, b in set(pairs):
        assert int(cm[a, b]) == pairs.count((a, b))


@pytest.mark.parametrize("labels,said", [(torch.tensor([0, 1]), torch.tensor([0])),
                                         (torch.tensor([0, 10]), torch.tensor([0, 1])),
                                         (torch.tensor([0, 1]), torch.tensor([-1, 1]))])
def test_bad_inputs(labels, said):
    with pytest.raises(LabError):
        confusion_matrix(labels, said)


def test_predict_matches_torch_and_training_evaluate(small, trained):
    preds = predict(trained, small.test_images, small.test_labels, batch_size=128)
    x = to_model_input(small.test_images)
    with torch.no_grad():
        expected = F.softmax(trained(x), dim=1)
    torch.testing.assert_close(preds.probs, expected)
    torch.testing.assert_close(preds.probs.sum(1), torch.ones(len(x)))
    _, acc, pred = evaluate(trained, x, small.test_labels)
    assert preds.accuracy == pytest.approx(acc)
    assert torch.equal(preds.predicted, pred)
    cm = confusion_matrix(preds.labels, preds.predicted)
    assert int(cm.trace()) / len(x) == pytest.approx(acc)


def test_misclassified_most_confident_first():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3], [0.05, 0.95]])
    preds = Predictions(torch.tensor([0, 0, 0, 1, 1]), probs.argmax(1), probs)
    assert misclassified(preds).tolist() == [1, 3, 2]  # wrong with 0.8, 0.7, 0.6
    assert misclassified(preds, limit=1).tolist() == [1]
    torch.testing.assert_close(preds.confidence, torch.tensor([0.9, 0.8, 0.6, 0.7, 0.95]))


def test_digit_probabilities_and_feature_maps_match_forward(small, trained):
    digit = small.test_images[7]
    x = to_model_input(digit[None], True)
    with torch.no_grad():
        outs = trained.forward_all(x)
    torch.testing.assert_close(digit_probabilities(trained, digit), F.softmax(outs["fc3"], 1)[0])
    maps = feature_maps(trained, digit)
    assert maps["conv1"].shape == (6, 28, 28) and maps["pool2"].shape == (16, 5, 5) and maps["fc3"].shape == (10,)
    for name, out in outs.items():
        torch.testing.assert_close(maps[name], out[0])
    raw = digit_probabilities(trained, digit, normalized=False)  # the same digit in [0, 1] is another input
    assert not torch.allclose(raw, digit_probabilities(trained, digit))
    with pytest.raises(LabError):
        digit_probabilities(trained, torch.zeros(27, 28, dtype=torch.uint8))


def test_filter_change_is_zero_before_training_and_positive_after(trained):
    initial = build_lenet(trained.config, 0).conv1.weight.detach()
    assert filter_change(initial, initial).tolist() == [0.0] * 6
    moved = filter_change(initial, trained.conv1.weight.detach())
    assert (moved > 0).all()
    torch.testing.assert_close(moved[0], (trained.conv1.weight[0] - initial[0]).norm().detach())


def test_tile_maps_layout():
    maps = torch.arange(3 * 2 * 2, dtype=torch.float32).reshape(3, 2, 2)
    tiled = tile_maps(maps, cols=2, gap=1)
    assert tiled.shape == (5, 5)
    torch.testing.assert_close(tiled[0:2, 0:2], maps[0])
    torch.testing.assert_close(tiled[0:2, 3:5], maps[1])
    torch.testing.assert_close(tiled[3:5, 0:2], maps[2])
    assert torch.isnan(tiled[2]).all() and torch.isnan(tiled[:, 2]).all() and torch.isnan(tiled[3:, 3:]).all()


def test_preference_puts_correct_loops_first_then_accuracy_then_length():
    from core.model_inspect import preference

    runs = {"mistake, best": preference("optimizer_in_loop", 0.99, 3), "good": preference("none", 0.95, 10),
            "better": preference("none", 0.97, 2), "better, longer": preference("none", 0.97, 10)}
    assert sorted(runs, key=runs.get, reverse=True) == ["better, longer", "better", "good", "mistake, best"]
