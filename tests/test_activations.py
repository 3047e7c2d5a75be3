"""core.activations against torch: values, autograd derivatives, feature maps, deep stacks, dead units."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from core.activations import (NAMES, deep_stack, evaluate, feature_map, lenet_dead_fraction, module, prelu_alpha_grad,
                              saturated_ranges, stack_gradients)
from core.data import to_model_input
from core.errors import LabError
from core.lenet import LeNetConfig, build_lenet

TORCH = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": F.relu, "leaky_relu": F.leaky_relu,
         "elu": F.elu, "gelu": F.gelu, "silu": F.silu,
         "prelu": lambda x: F.prelu(x, torch.tensor([0.25]))}
HAND_DERIV = {  # closed forms, only to check autograd; the app never uses them
    "tanh": lambda x: 1 - torch.tanh(x) ** 2,
    "sigmoid": lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x)),
    "relu": lambda x: (x > 0).float(),
    "leaky_relu": lambda x: torch.where(x > 0, 1.0, 0.01),
    "elu": lambda x: torch.where(x > 0, 1.0, torch.exp(x)),
    "prelu": lambda x: torch.where(x > 0, 1.0, 0.25),
    "silu": lambda x: torch.sigmoid(x) * (1 + x * (1 - torch.sigmoid(x))),
}


@pytest.mark.parametrize("name", NAMES)
def test_values_match_torch(name):
    x = torch.linspace(-6, 6, 241)
    got = evaluate(name, x)
    torch.testing.assert_close(got.y, TORCH[name](x))


@pytest.mark.parametrize("name", sorted(HAND_DERIV))
def test_autograd_derivative_matches_closed_form(name):
    x = torch.linspace(-6, 6, 240)  # avoids 0 exactly
    torch.testing.assert_close(evaluate(name, x).dy, HAND_DERIV[name](x), atol=1e-6, rtol=1e-5)


def test_course_values():
    tanh = evaluate("tanh", [-2.0, 0.0, 2.0])
    assert [round(v, 4) for v in tanh.y.tolist()] == [-0.9640, 0.0, 0.9640]
    torch.testing.assert_close(tanh.y, nn.Tanh()(torch.tensor([-2.0, 0.0, 2.0])))
    relu = evaluate("relu", [-3.0, 0.0, 2.0])
    assert relu.y.tolist() == [0.0, 0.0, 2.0]
    assert relu.dy.tolist() == [0.0, 0.0, 1.0]  # torch's choice at the kink
    assert tanh.dy[1].item() == pytest.approx(1.0)


@given(slope=st.floats(0.0, 1.0), xs=st.lists(st.floats(-50, 50), min_size=1, max_size=20))
@settings(max_examples=40, deadline=None)
def test_leaky_slope(slope, xs):
    got = evaluate("leaky_relu", xs, negative_slope=slope)
    x = torch.tensor(xs)
    torch.testing.assert_close(got.y, F.leaky_relu(x, slope))
    torch.testing.assert_close(got.dy, torch.where(x > 0, 1.0, slope))


def test_elu_alpha():
    got = evaluate("elu", [-1.0, 1.0], alpha=2.0)
    torch.testing.assert_close(got.y, F.elu(torch.tensor([-1.0, 1.0]), alpha=2.0))


@pytest.mark.parametrize("bad", [
    lambda: evaluate("swish2", [0.0]),
    lambda: evaluate("relu", [0.0], negative_slope=0.1),
    lambda: evaluate("leaky_relu", [0.0], negative_slope=float("nan")),
    lambda: evaluate("tanh", [float("nan")]),
    lambda: evaluate("tanh", [float("inf")]),
    lambda: deep_stack("tanh", 0),
    lambda: deep_stack("tanh", 3, init="zeros"),
])
def test_invalid_input_is_lab_error(bad):
    with pytest.raises(LabError) as info:
        bad()
    assert info.value.code.startswith("act.")


def test_saturation_ranges():
    v = evaluate("tanh", torch.linspace(-6, 6, 121))
    ranges = saturated_ranges(v)
    assert len(ranges) == 2 and ranges[0][0] == -6 and ranges[1][1] == 6
    assert all(abs(v.dy[(v.x >= lo) & (v.x <= hi)]).max() < 0.05 for lo, hi in ranges)
    assert saturated_ranges(evaluate("relu", torch.linspace(0.1, 5, 50))) == []


def test_feature_map_is_conv1_then_activation(digits):
    model = build_lenet(LeNetConfig(), seed=0).eval()
    x = to_model_input(digits.test_images[:1])
    pre, post = feature_map(model, x, "relu")
    torch.testing.assert_close(pre, model.conv1(x)[0].detach())
    torch.testing.assert_close(post, F.relu(pre))
    assert pre.shape == (6, 28, 28)


def test_stack_gradients_against_manual_autograd(digits):
    x = to_model_input(digits.test_images[:32]).flatten(1)
    y = digits.test_labels[:32]
    stack = deep_stack("sigmoid", 6, seed=3)
    got = stack_gradients(stack, x, y)
    loss = F.cross_entropy(stack(x), y)
    loss.backward()
    want = torch.stack([m.weight.grad.norm() for m in stack if isinstance(m, nn.Linear)][:-1])
    torch.testing.assert_close(got.weight_grad_norm, want)
    assert got.loss == pytest.approx(loss.item())
    assert got.weight_grad_norm[0] < got.weight_grad_norm[-1] / 100  # sigmoid: the gradient vanishes going down
    same = stack_gradients(deep_stack("sigmoid", 6, seed=3), x, y)
    torch.testing.assert_close(same.weight_grad_norm, got.weight_grad_norm)  # seeded


def test_scaled_init_keeps_relu_gradients(digits):
    x = to_model_input(digits.test_images[:32]).flatten(1)
    y = digits.test_labels[:32]
    g = stack_gradients(deep_stack("relu", 12, init="scaled"), x, y).weight_grad_norm
    assert g.max() / g.min() < 10


def test_dead_units(digits):
    x = to_model_input(digits.test_images[:64]).flatten(1)
    stack = deep_stack("relu", 4, seed=0)
    with torch.no_grad():
        stack[2].bias.fill_(-100.0)  # a bad update pushed layer 2's biases far below zero
    dead = stack_gradients(stack, x, digits.test_labels[:64]).dead_fraction
    assert dead[1] == 1.0 and dead[0] < 0.5


def test_lenet_dead_fraction(digits):
    model = build_lenet(LeNetConfig(activation="relu"), seed=0).eval()
    x = to_model_input(digits.test_images[:50])
    got = lenet_dead_fraction(model, x)
    outs = model.forward_all(x)
    want = (F.relu(outs["fc1"]) == 0).all(0).float().mean().item()
    assert got["fc1"] == pytest.approx(want)
    assert set(got) == {"conv1", "conv2", "fc1", "fc2"} and all(0 <= v <= 1 for v in got.values())
    for k in got:
        assert got[k] == pytest.approx((outs[k] <= 0).all(0).float().mean().item())
    shifted = lenet_dead_fraction(model, x, bias_shift=-3.0)
    assert all(shifted[k] >= got[k] for k in got) and shifted["fc1"] > got["fc1"]
    torch.testing.assert_close(model.forward_all(x)["fc1"], outs["fc1"])  # the model is untouched


def test_prelu_alpha_is_a_weight_with_a_gradient():
    x = [-3.0, -1.0, 0.5, 2.0]
    alpha, grad = prelu_alpha_grad(x, init=0.1)
    assert alpha == pytest.approx(0.1) and grad == pytest.approx(-4.0)  # only -3 and -1 reach alpha
    torch.testing.assert_close(evaluate("prelu", x, init=0.1).y, torch.tensor([-0.3, -0.1, 0.5, 2.0]))
    assert list(dict(nn.PReLU().named_parameters())) == ["weight"]  # learned, like any other weight
