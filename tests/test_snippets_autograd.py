"""The autograd page's vector-Jacobian / freezing code panel runs as plain PyTorch and gives core's numbers.

case_vjp_script takes (digits) like the cases of tests/test_snippets.py, so it is listed in its CASES as
"autograd.vjp_script".
"""
import torch

from core.autograd import freeze_step, vector_jacobian
from lab.snippets.autograd import vjp_script


def run(code: str):
    scope: dict = {}
    exec(compile(code, "<snippet>", "exec"), scope)
    return scope["result"]


def case_vjp_script(digits=None):
    for seed, v, frozen in ((0, (1.0, 1.0, 1.0), ("conv1", "conv2")), (3, (1.0, -2.0, 0.5), ("fc1",)),
                            (1, (0.5, 0.0, 2.0), ()), (2, (1.0, 1.0, 1.0), ("conv1", "conv2", "fc1", "fc2", "fc3"))):
        message, jac, vjp, x_grad, layers, trainable = run(vjp_script(seed, v, frozen))
        vj = vector_jacobian(seed, v)
        assert message == vj.error
        torch.testing.assert_close(jac, vj.jacobian)
        torch.testing.assert_close(vjp, vj.vjp)
        torch.testing.assert_close(x_grad, vj.x_grad)
        fr = freeze_step(frozen, seed)
        assert layers == {r.name: (r.grad_is_none, r.changed) for r in fr.layers}
        assert trainable == fr.trainable


def test_snippet_reproduces_core():
    case_vjp_script()
