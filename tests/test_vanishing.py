"""Vanishing gradients and initialisation (issue 15): each activation's matching init keeps a 12-layer stack's
gradient within 10x, sigmoid vanishes anyway, and a shared init breaks ReLU. Inits checked against torch's own."""
import pytest
import torch
import torch.nn as nn

from core.activations import deep_stack, init_for, stack_gradients
from core.data import to_model_input
from core.errors import LabError
from lab.snippets.activations import stack_code


@pytest.fixture(scope="module")
def batch(digits):
    return to_model_input(digits.test_images[:64]).flatten(1), digits.test_labels[:64]


def ratios(name: str, init: str, batch, depth: int = 12) -> tuple[float, float]:
    """(layer 1's weight-gradient norm / the last layer's, largest / smallest over the layers)."""
    g = stack_gradients(deep_stack(name, depth, init=init), *batch).weight_grad_norm
    return float(g[0] / g[-1]), float(g.max() / g.min())


def test_matching_init_keeps_relu_and_tanh_within_10x_and_sigmoid_vanishes(batch):
    for name in ("relu", "tanh"):
        first_last, spread = ratios(name, "matched", batch)
        assert 0.1 <= first_last <= 10 and spread <= 10, name
    assert ratios("sigmoid", "matched", batch)[0] < 1e-4


def test_pytorchs_default_shared_by_all_starves_relus_first_layers(batch):
    assert ratios("relu", "default", batch)[0] < 0.01
    assert ratios("relu", "default", batch)[0] < ratios("tanh", "default", batch)[0]


def test_matched_means_kaiming_for_relu_and_xavier_for_tanh_and_sigmoid():
    assert [init_for(n, "matched") for n in ("relu", "leaky_relu", "gelu", "tanh", "sigmoid")] == [
        "kaiming", "kaiming", "kaiming", "xavier", "xavier"]
    assert init_for("relu", "default") == "default" and init_for("tanh", "kaiming") == "kaiming"
    with pytest.raises(LabError):
        init_for("relu", "ones")


@pytest.mark.parametrize("init, fill", [("kaiming", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
                                        ("xavier", nn.init.xavier_uniform_)])
def test_inits_are_torchs_own(init, fill):
    """The same seed, the same calls in the same order: the stack's weights are torch's init functions' output."""
    stack = deep_stack("relu", 3, init=init, seed=5)
    torch.manual_seed(5)
    for layer in [m for m in stack if isinstance(m, nn.Linear)][:-1]:
        ref = nn.Linear(layer.in_features, layer.out_features)
        fill(ref.weight)
        torch.testing.assert_close(layer.weight, ref.weight)
        assert float(layer.bias.detach().abs().max()) == 0.0


@pytest.mark.parametrize("name, init", [("relu", "kaiming"), ("tanh", "xavier")])
def test_code_panel_reproduces_the_matched_stacks(digits, batch, name, init):
    scope: dict = {}
    exec(compile(stack_code(name, 4, init, digits.source), "<snippet>", "exec"), scope)
    want = stack_gradients(deep_stack(name, 4, init="matched"), *batch).weight_grad_norm
    assert scope["result"] == pytest.approx(want.tolist(), rel=1e-4)
