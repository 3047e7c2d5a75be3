"""The code panels of the activations and softmax pages run on their own and reproduce core's numbers."""
import pytest
import torch

from core.activations import deep_stack, evaluate, stack_gradients
from core.data import load_digits, to_model_input
from core.losses import batch_cross_entropy, cross_entropy_breakdown
from lab.snippets.activations import stack_code, values_code
from lab.snippets.losses import batch_code, cross_entropy_code


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


def test_cross_entropy_snippet():
    probs, loss, grad = run(cross_entropy_code([2.0, 1.0, 0.1], 0, 1.5))
    ce = cross_entropy_breakdown([2.0, 1.0, 0.1], 0, 1.5)
    assert probs == pytest.approx(ce.softmax.probs.tolist()) and loss == pytest.approx(ce.loss)
    assert grad == pytest.approx(ce.grad.tolist())


def test_batch_snippet():
    batch = [[1.2, 0.8, 2.1, 0.5], [0.2, 2.5, 0.3, 1.0], [1.5, 0.2, 0.3, 3.1]]
    mean, per = run(batch_code(batch, [2, 1, 3]))
    want = batch_cross_entropy(batch, [2, 1, 3])
    assert mean == pytest.approx(want.mean, rel=1e-6) and per == pytest.approx(want.per_sample.tolist(), rel=1e-6)
