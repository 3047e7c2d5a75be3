"""Autograd: the notes' example, its real graph, .grad against the chain rule by hand, accumulation, tracking."""
import pytest
import torch
import torch.nn.functional as F

from core.autograd_graph import backward_calls, expected_grads, notes_example, trace_graph, tracking
from core.errors import LabError


def the_notes(seed):
    """The notes' code, verbatim in spirit: the oracle."""
    torch.manual_seed(seed)
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    loss.backward()
    return w, b, z, loss


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_grads_equal_the_notes_code_and_the_chain_rule(seed):
    w, b, z, loss = the_notes(seed)
    ex = notes_example(seed)
    torch.testing.assert_close(ex.loss, loss.detach(), check_dtype=True)
    acc = backward_calls(seed, 1)
    torch.testing.assert_close(acc.grads[0]["w"], w.grad)
    torch.testing.assert_close(acc.grads[0]["b"], b.grad)
    hand = expected_grads(ex)
    torch.testing.assert_close(hand["w"], w.grad)
    torch.testing.assert_close(hand["b"], b.grad)


def test_the_global_generator_is_left_alone():
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    notes_example(3)
    backward_calls(3, 2)
    assert torch.equal(before, torch.random.get_rng_state())


def test_graph_is_the_real_grad_fn_chain():
    ex = notes_example(0)
    graph = trace_graph(ex.loss, ex.tensors)
    ops = {n.op for n in graph.nodes}
    assert ops == {"BinaryCrossEntropyWithLogitsBackward0", "AddBackward0", "SqueezeBackward4", "MmBackward0",
                   "AccumulateGrad"}
    by_id = {n.id: n for n in graph.nodes}
    root = graph.node("loss")
    assert root.op == type(ex.loss.grad_fn).__name__ and root.untracked == 1  # y needs no gradient
    assert graph.node("z").op == "AddBackward0"
    assert graph.node("w").op == "AccumulateGrad" and graph.node("w").shape == (5, 3)
    assert graph.node("b").shape == (3,) and graph.node("x") is None  # x does not require grad: not in the graph
    assert by_id[next(b for a, b in graph.edges if a == root.id)].tensor == "z"
    mm = next(n for n in graph.nodes if n.op == "MmBackward0")
    assert mm.untracked == 1  # x's slot is None
    leaves = [n for n in graph.nodes if n.op == "AccumulateGrad"]
    assert all(not any(a == leaf.id for a, _ in graph.edges) for leaf in leaves)  # leaves end the walk
    assert len(graph.edges) == 5


def test_x_joins_the_graph_when_it_requires_grad():
    ex = notes_example(0, x_requires_grad=True)
    graph = trace_graph(ex.loss, ex.tensors)
    assert graph.node("x") is not None and graph.node("x").op == "AccumulateGrad"
    acc = backward_calls(0, 1, x_requires_grad=True)
    torch.testing.assert_close(acc.grads[0]["x"], expected_grads(ex)["x"])
    with pytest.raises(LabError, match="autograd.no_graph"):
        trace_graph(torch.ones(2), {})


@pytest.mark.parametrize("how", ["retain_graph", "forward_again"])
def test_backward_without_zero_grad_accumulates(how):
    acc = backward_calls(0, 3, how)
    assert acc.error is None and len(acc.grads) == 3
    for k, grads in enumerate(acc.grads, start=1):
        torch.testing.assert_close(grads["w"], k * acc.grads[0]["w"])
        torch.testing.assert_close(grads["b"], k * acc.grads[0]["b"])
    cleared = backward_calls(0, 3, how, zero_grad=True)
    for grads in cleared.grads:
        torch.testing.assert_close(grads["b"], acc.grads[0]["b"])


def test_second_backward_without_retain_graph_is_refused_by_torch():
    acc = backward_calls(0, 2, "neither")
    assert len(acc.grads) == 1 and "second time" in acc.error
    w, b, z, loss = the_notes(0)
    with pytest.raises(RuntimeError) as err:
        loss.backward()
    assert str(err.value) == acc.error


@pytest.mark.parametrize("args,code", [((0, 0), "autograd.bad_calls"), ((0, 11), "autograd.bad_calls"),
                                       ((0, 2, "twice"), "autograd.bad_pass")])
def test_bad_arguments(args, code):
    with pytest.raises(LabError) as err:
        backward_calls(*args)
    assert err.value.code == code


def test_no_grad_and_detach_stop_tracking():
    tr = tracking(0)
    assert (tr.normal, tr.no_grad, tr.detached) == (True, False, False)
    assert tr.detach_shares_memory and not tr.no_grad_has_graph
