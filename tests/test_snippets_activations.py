"""The code panels of the activations page run on their own and reproduce core's numbers."""
import pytest
import torch

from core.activations import deep_stack, evaluate, stack_gradients
from core.data import load_digits, to_model_input
from lab.snippets.activations import stack_code, values_code


def run(code: str):
    scope: dict = {}
    exec(compile(code, "<snippet>", "exec"), scope)
    return scope["result"]


@pytest.mark.parametrize("name, xs", [("tanh", [-2.0, 0.0, 2.0]), ("relu", [-3.0, 0.0, 2.0]), ("leaky_relu", [-1.0, 1.0])])
def test_values_snippet(name, xs):
    y, dy = run(values_code(name, xs, negative_slope=0.2))
    want = evaluate(name, xs, **({"negative_slope": 0.2} if name == "leaky_relu" else {}))
    assert y == pytest.approx(want.y.tolist()) and dy == pytest.approx(want.dy.tolist())


@pytest.mark.parametrize("name, init", [("sigmoid", "default"), ("tanh", "scaled")])
def test_stack_snippet(name, init):
    data = load_digits()
    norms = run(stack_code(name, 4, init, data.source))
    want = stack_gradients(deep_stack(name, 4, init=init), to_model_input(data.test_images[:64]).flatten(1),
                           data.test_labels[:64])
    assert norms == pytest.approx(want.weight_grad_norm.tolist(), rel=1e-4)
