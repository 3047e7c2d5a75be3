"""The code panels of the softmax / cross-entropy page run on their own and reproduce core's numbers."""
import pytest

from core.losses import batch_cross_entropy, cross_entropy_breakdown
from lab.snippets.losses import batch_code, cross_entropy_code


def run(code: str):
    scope: dict = {}
    exec(compile(code, "<snippet>", "exec"), scope)
    return scope["result"]


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
