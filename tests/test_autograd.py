"""Autograd: the notes' example, its real graph, .grad against the chain rule by hand, accumulation, tracking."""
import pytest
import torch
import torch.nn.functional as F

from core.autograd import (FREEZABLE, backward_calls, expected_grads, freeze_step, notes_example, trace_graph,
                                  tracking, vector_jacobian)
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


@pytest.mark.parametrize("seed,v", [(0, (1.0, 1.0, 1.0)), (3, (1.0, -2.0, 0.5)), (9, (0.0, 0.0, 4.0))])
def test_vector_backward_is_refused_then_gives_v_times_the_jacobian(seed, v):
    vj = vector_jacobian(seed, v)
    assert vj.error == "grad can be implicitly created only for scalar outputs"
    torch.manual_seed(seed)
    x = torch.ones(5, requires_grad=True)
    w, b = torch.randn(5, 3), torch.randn(3)
    torch.testing.assert_close(vj.jacobian, w.T)  # z = x @ w + b, so dz/dx = w^T, shape (3, 5)
    torch.testing.assert_close(vj.vjp, w @ torch.tensor(v))
    torch.testing.assert_close(vj.x_grad, vj.vjp)
    torch.testing.assert_close(vj.b_grad, torch.tensor(v))
    (torch.matmul(x, w) + b).backward(torch.tensor(v))
    torch.testing.assert_close(vj.x_grad, x.grad)
    assert vj.max_difference < 1e-6


def test_backward_with_ones_equals_backward_of_the_sum():
    vj = vector_jacobian(1)
    ex = notes_example(1, x_requires_grad=True)
    (ex.z.sum()).backward()
    torch.testing.assert_close(vj.x_grad, ex.x.grad)


def test_bad_v_length():
    with pytest.raises(LabError) as err:
        vector_jacobian(0, (1.0, 2.0))
    assert err.value.code == "autograd.bad_v"


@pytest.mark.parametrize("frozen", [(), ("conv1", "conv2"), ("fc3",), ("conv1", "fc1", "fc3")])
def test_frozen_layers_get_no_grad_and_are_not_stepped(frozen):
    fr = freeze_step(frozen, seed=2)
    assert fr.error is None
    for row in fr.layers:
        assert row.frozen == (row.name in frozen)
        assert row.grad_is_none == row.frozen and row.changed == (not row.frozen)
    assert fr.total == 61706
    assert fr.trainable == fr.total - sum(r.params for r in fr.layers if r.frozen)


def test_freezing_every_layer_is_refused_by_torch():
    fr = freeze_step(FREEZABLE)
    assert fr.trainable == 0 and "does not require grad" in fr.error
    assert all(r.grad_is_none and not r.changed for r in fr.layers)
    with pytest.raises(LabError) as err:
        freeze_step(("conv3",))
    assert err.value.code == "autograd.bad_layer"
