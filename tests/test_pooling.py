"""core.pooling against torch: outputs, winners, gradient routing, and the same settings rejected."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import LabError
from core.pooling import NOTES_PATCH, NOTES_RAMP, NOTES_SMALL, pool_output_size, pool_trace

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TORCH = {"max": F.max_pool2d, "avg": F.avg_pool2d}


def torch_pool(x, kind, kernel, stride, padding):
    """The oracle on the same input ([H, W] is pooled as one channel)."""
    out = TORCH[kind](x if x.dim() == 3 else x[None], kernel, stride, padding)
    return out if x.dim() == 3 else out[0]


def test_notes_examples():
    torch.testing.assert_close(pool_trace(NOTES_RAMP, "max").output, torch.tensor([[6.0, 8.0], [14.0, 16.0]]))
    assert pool_trace(NOTES_PATCH, "max").output.item() == pytest.approx(0.8)
    assert pool_trace(NOTES_PATCH, "avg").output.item() == pytest.approx(0.35)
    assert pool_trace(NOTES_SMALL, "max").output.item() == 4.0
    assert pool_trace(NOTES_SMALL, "avg").output.item() == 2.5
    assert pool_trace(NOTES_PATCH, "max").steps[0].winner == (1, 0)


def test_flat_windows_give_the_gradient_to_the_first_pixel():
    trace = pool_trace(torch.zeros(4, 4), "max")
    assert all(s.tied for s in trace.steps) and [s.winner for s in trace.steps] == [(0, 0), (0, 2), (2, 0), (2, 2)]
    assert trace.grad_input[::2, ::2].eq(1).all() and trace.grad_input.sum() == 4
    assert not any(s.tied for s in pool_trace(NOTES_RAMP, "max").steps)


def test_gradient_routing_on_the_ramp():
    trace = pool_trace(NOTES_RAMP, "max")
    winners = {s.winner for s in trace.steps}
    assert winners == {(1, 1), (1, 3), (3, 1), (3, 3)}
    expected = torch.zeros(4, 4)
    for r, c in winners:
        expected[r, c] = 1.0
    torch.testing.assert_close(trace.grad_input, expected)
    torch.testing.assert_close(pool_trace(NOTES_RAMP, "avg").grad_input, torch.full((4, 4), 0.25))


@st.composite
def pool_case(draw, valid_only: bool = True):
    c = draw(st.integers(1, 3))
    shape = (c, draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    if c == 1 and draw(st.booleans()):
        shape = shape[1:]
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    # few distinct values so that ties happen: torch's choice of winner must be ours
    x = torch.randint(0, 4, shape, generator=gen).float() if draw(st.booleans()) else torch.randn(shape, generator=gen)
    lo = 1 if valid_only else -1
    kernel = draw(st.integers(lo, 5))
    stride = draw(st.one_of(st.none(), st.integers(lo, 4)))
    padding = draw(st.integers(0 if valid_only else -1, 3))
    return x, draw(st.sampled_from(["max", "avg"])), kernel, stride, padding


@FAST
@given(pool_case(valid_only=False))
def test_same_accept_reject_set_as_torch(case):
    x, kind, kernel, stride, padding = case
    try:
        expected = torch_pool(x, kind, kernel, stride, padding)
    except RuntimeError:
        with pytest.raises(LabError):
            pool_trace(x, kind, kernel, stride, padding)
        return
    torch.testing.assert_close(pool_trace(x, kind, kernel, stride, padding).output, expected)


@FAST
@given(pool_case())
def test_output_steps_and_gradient_match_torch(case):
    x, kind, kernel, stride, padding = case
    try:
        expected = torch_pool(x, kind, kernel, stride, padding)
    except RuntimeError:
        with pytest.raises(LabError):
            pool_trace(x, kind, kernel, stride, padding)
        return
    upstream = torch.randn(expected.shape)
    trace = pool_trace(x, kind, kernel, stride, padding, upstream=upstream)
    torch.testing.assert_close(trace.output, expected)
    s = kernel if stride is None else stride
    chw = x if x.dim() == 3 else x[None]
    h, w = chw.shape[1:]
    assert expected.shape[-2:] == pool_output_size(h, w, kernel, s, padding)
    assert len(trace.steps) == expected.numel()
    out3 = expected if x.dim() == 3 else expected[None]
    grad = torch.zeros_like(chw)  # the gradient routed by hand, from the steps
    up3 = upstream if x.dim() == 3 else upstream[None]
    for step in trace.steps:
        assert step.value == pytest.approx(out3[step.channel, step.row, step.col].item(), abs=1e-5)
        assert (step.top, step.left) == (step.row * s, step.col * s)
        g = up3[step.channel, step.row, step.col]
        if kind == "max":
            r, c = step.winner
            assert chw[step.channel, r, c].item() == step.value == step.window.max().item()
            assert step.tied == (int((step.window == step.value).sum()) > 1)
            grad[step.channel, r, c] += g
        else:
            assert step.winner is None
            assert step.value == pytest.approx(step.window.mean().item(), abs=1e-5)  # zero padding is counted
            for i in range(kernel):
                for j in range(kernel):
                    r, c = step.top + i - padding, step.left + j - padding
                    if 0 <= r < h and 0 <= c < w:
                        grad[step.channel, r, c] += g / kernel**2
    torch.testing.assert_close(trace.grad_input, grad if x.dim() == 3 else grad[0])
    # autograd's own answer, for the record
    leaf = x.clone().requires_grad_(True)
    torch_pool(leaf, kind, kernel, stride, padding).backward(upstream)
    torch.testing.assert_close(trace.grad_input, leaf.grad)


@FAST
@given(pool_case())
def test_max_pooling_is_at_least_average_without_padding(case):
    x, _, kernel, stride, _ = case
    try:
        mx, av = pool_trace(x, "max", kernel, stride), pool_trace(x, "avg", kernel, stride)
    except LabError:
        return
    assert bool((mx.output >= av.output - 1e-6).all())


@pytest.mark.parametrize("kwargs,code", [
    (dict(kernel=0), "pool.bad_kernel"), (dict(stride=0), "pool.bad_stride"), (dict(stride=-1), "pool.bad_stride"),
    (dict(padding=-1), "pool.negative_padding"), (dict(kernel=2, padding=2), "pool.padding_too_large"),
    (dict(kernel=6), "pool.kernel_too_large"), (dict(kind="median"), "pool.bad_kind"),
    (dict(kernel=2.0), "pool.not_integer"), (dict(upstream=torch.ones(3, 3)), "pool.bad_upstream"),
])
def test_bad_settings(kwargs, code):
    with pytest.raises(LabError) as err:
        pool_trace(NOTES_RAMP, **kwargs)
    assert err.value.code == code


@pytest.mark.parametrize("x,code", [(torch.ones(4), "pool.bad_shape"), (torch.ones(0, 4, 4), "pool.bad_shape"),
                                    (torch.ones(4, 4, dtype=torch.bool), "pool.bad_dtype")])
def test_bad_inputs(x, code):
    with pytest.raises(LabError) as err:
        pool_trace(x)
    assert err.value.code == code


def test_integer_input_pooled_as_float():
    torch.testing.assert_close(pool_trace(NOTES_RAMP.long()).output, torch.tensor([[6.0, 8.0], [14.0, 16.0]]))
