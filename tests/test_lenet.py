"""LeNet-5: every intermediate shape, the classic parameter count, seeded initialisation."""
import pytest
import torch

from core.lenet import ACTIVATIONS, LeNetConfig, build_lenet, count_parameters, layer_table

SHAPES = {"input": (2, 1, 28, 28), "conv1": (2, 6, 28, 28), "act1": (2, 6, 28, 28), "pool1": (2, 6, 14, 14),
          "conv2": (2, 16, 10, 10), "act2": (2, 16, 10, 10), "pool2": (2, 16, 5, 5), "flatten": (2, 400),
          "fc1": (2, 120), "act3": (2, 120), "fc2": (2, 84), "act4": (2, 84), "fc3": (2, 10)}


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_intermediate_shapes(activation, pooling):
    model = build_lenet(LeNetConfig(activation, pooling))
    outs = model.forward_all(torch.randn(2, 1, 28, 28))
    assert {k: tuple(v.shape) for k, v in outs.items()} == SHAPES
    torch.testing.assert_close(model(torch.zeros(1, 1, 28, 28)), model.forward_all(torch.zeros(1, 1, 28, 28))["fc3"])


def test_classic_parameter_count():
    model = build_lenet()
    assert count_parameters(model) == 61_706
    rows = {r.name: r.params for r in layer_table(model, torch.zeros(1, 1, 28, 28))}
    assert rows == {**{k: 0 for k in SHAPES}, "conv1": 156, "conv2": 2416, "fc1": 48120, "fc2": 10164, "fc3": 850}


def test_activation_and_pooling_are_used():
    x = torch.randn(1, 1, 28, 28)
    relu = build_lenet(LeNetConfig("relu")).forward_all(x)
    assert relu["act1"].min() >= 0
    tanh = build_lenet(LeNetConfig("tanh", "avg")).forward_all(x)
    torch.testing.assert_close(tanh["pool1"], torch.nn.functional.avg_pool2d(tanh["act1"], 2))


def test_same_seed_same_weights():
    a, b, c = build_lenet(seed=3), build_lenet(seed=3), build_lenet(seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.conv1.weight, c.conv1.weight)


@pytest.mark.parametrize("bad", [dict(activation="swish2"), dict(pooling="median"), dict(dropout=1.0)])
def test_bad_config_rejected(bad):
    with pytest.raises(ValueError):
        LeNetConfig(**bad)


def test_seeded_dropout_behaves_like_dropout():
    model = build_lenet(LeNetConfig(dropout=0.5), seed=1)
    x = torch.ones(20000)
    y = model.drop(x)
    assert set(y.unique().tolist()) == {0.0, 2.0}
    assert abs((y == 0).float().mean().item() - 0.5) < 0.02
    again = build_lenet(LeNetConfig(dropout=0.5), seed=1).drop(x)
    assert torch.equal(y, again)
    model.eval()
    assert torch.equal(model.drop(x), x)
