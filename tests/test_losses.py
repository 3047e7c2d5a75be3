"""core.losses against torch and the course's hand-worked numbers; hypothesis properties; every invalid input."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import LabError
from core.losses import (ce_vs_mse, batch_cross_entropy, cross_entropy_breakdown, double_softmax, label_formats,
                         naive_softmax, one_hot, parse_logits, softmax_breakdown)

BATCH = [[1.2, 0.8, 2.1, 0.5], [0.2, 2.5, 0.3, 1.0], [1.5, 0.2, 0.3, 3.1]]
LABELS = [2, 1, 3]
logit_lists = st.lists(st.floats(-30, 30, allow_nan=False), min_size=2, max_size=10)


def test_course_softmax_and_loss():
    ce = cross_entropy_breakdown([2.0, 1.0, 0.1], 0)
    # the notes round e^x to two decimals before dividing (0.243 / 0.098); the exact values are 0.2424 / 0.0986
    assert ce.softmax.probs.tolist() == pytest.approx([0.659, 0.243, 0.098], abs=1.5e-3)
    assert [round(p, 4) for p in ce.softmax.probs.tolist()] == [0.6590, 0.2424, 0.0986]
    assert [round(e, 2) for e in naive_softmax([2.0, 1.0, 0.1])[0].tolist()] == [7.39, 2.72, 1.11]
    assert round(ce.loss, 3) == 0.417
    want = nn.CrossEntropyLoss()(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0]))
    assert ce.loss == pytest.approx(want.item(), rel=1e-6)


def test_course_batch_matches_cross_entropy_loss():
    got = batch_cross_entropy(BATCH, LABELS)
    z = torch.tensor(BATCH, requires_grad=True)
    loss = nn.CrossEntropyLoss()(z, torch.tensor(LABELS))
    loss.backward()
    assert got.mean == pytest.approx(loss.item(), rel=1e-6)
    torch.testing.assert_close(got.per_sample.float(), nn.CrossEntropyLoss(reduction="none")(z, torch.tensor(LABELS)))
    torch.testing.assert_close(got.grad.float(), z.grad)
    torch.testing.assert_close(got.grad, (got.probs - one_hot(LABELS, 4).double()) / 3)


@given(logit_lists, st.floats(0.05, 20))
@settings(max_examples=60, deadline=None)
def test_softmax_properties(z, temp):
    sm = softmax_breakdown(z, temp)
    assert sm.probs.sum().item() == pytest.approx(1.0)
    assert (sm.shifted <= 0).all() and sm.exps.max().item() == 1.0
    torch.testing.assert_close(sm.probs, torch.softmax(torch.tensor(z, dtype=torch.float64) / temp, 0))
    shifted = softmax_breakdown([v + 7.5 for v in z], temp)
    torch.testing.assert_close(shifted.probs, sm.probs)


@given(logit_lists, st.data(), st.floats(0.1, 10))
@settings(max_examples=60, deadline=None)
def test_cross_entropy_properties(z, data, temp):
    target = data.draw(st.integers(0, len(z) - 1))
    ce = cross_entropy_breakdown(z, target, temp)
    assert ce.loss >= 0
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    want = F.cross_entropy(zt[None] / temp, torch.tensor([target]))
    want.backward()
    assert ce.loss == pytest.approx(want.item(), rel=1e-9, abs=1e-12)
    torch.testing.assert_close(ce.grad, zt.grad)
    torch.testing.assert_close(ce.grad, (ce.softmax.probs - ce.one_hot) / temp)


def test_stable_vs_naive_on_huge_logits():
    sm = softmax_breakdown([1000.0, 0.0, -1000.0])
    assert sm.probs.tolist() == [1.0, 0.0, 0.0] and math.isfinite(sm.total)
    exps, probs = naive_softmax([1000.0, 0.0, -1000.0])
    assert math.isinf(exps[0].item()) and math.isnan(probs[0].item())
    ce = cross_entropy_breakdown([1000.0, 0.0, -1000.0], 2)
    assert ce.loss == pytest.approx(2000.0) and ce.p_target == 0.0  # finite although p underflowed


def test_temperature():
    hot = softmax_breakdown([2.0, 1.0, 0.1], 5.0).probs
    cold = softmax_breakdown([2.0, 1.0, 0.1], 0.2).probs
    assert hot.max() < 0.5 < 0.99 < cold.max()


def test_one_hot():
    assert one_hot([2, 0], 4).tolist() == [[0, 0, 1, 0], [1, 0, 0, 0]]
    torch.testing.assert_close(one_hot(torch.tensor([3]), 4), F.one_hot(torch.tensor([3]), 4).float())


def test_double_softmax_pitfall():
    d = double_softmax([2.0, 1.0, 0.1], 0)
    assert d.correct_loss == pytest.approx(F.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0])).item())
    assert d.wrong_loss == pytest.approx(F.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]]).softmax(1), torch.tensor([0])).item())
    assert d.wrong_loss > d.correct_loss and d.wrong_grad_norm < d.correct_grad_norm
    perfect = double_softmax([50.0, 0.0, 0.0], 0)
    assert perfect.correct_loss < 1e-10 and perfect.wrong_loss == pytest.approx(perfect.floor, rel=1e-6)


def test_label_formats():
    f = label_formats(BATCH, LABELS)
    assert f.with_indices == pytest.approx(f.with_one_hot_float)
    assert f.one_hot_long_error and "Long" in f.one_hot_long_error


def test_parse_logits():
    torch.testing.assert_close(parse_logits("2.0, 1.0, 0.1"), torch.tensor([2.0, 1.0, 0.1], dtype=torch.float64))
    assert parse_logits("1 2  -3e1").tolist() == [1.0, 2.0, -30.0]
    assert parse_logits("1，2").tolist() == [1.0, 2.0]  # a Chinese comma


@pytest.mark.parametrize("bad, code", [
    (lambda: parse_logits(""), "loss.empty_logits"),
    (lambda: parse_logits(" , "), "loss.empty_logits"),
    (lambda: parse_logits("1, two"), "loss.unparseable"),
    (lambda: parse_logits("1"), "loss.class_count"),
    (lambda: parse_logits(",".join(["1"] * 11)), "loss.class_count"),
    (lambda: parse_logits("1, nan"), "loss.not_finite"),
    (lambda: parse_logits("1, inf"), "loss.not_finite"),
    (lambda: parse_logits("1, 1e999"), "loss.not_finite"),
    (lambda: softmax_breakdown([]), "loss.empty_logits"),
    (lambda: softmax_breakdown([1.0, float("nan")]), "loss.not_finite"),
    (lambda: softmax_breakdown([1e308, 0.0], 0.5), "loss.not_finite"),  # finite, but infinite once divided by T
    (lambda: cross_entropy_breakdown([1.0, 2.0], 0.5), "loss.bad_target"),  # not a class index
    (lambda: cross_entropy_breakdown([1.0, 2.0], float("nan")), "loss.bad_target"),
    (lambda: softmax_breakdown([1.0, 2.0], 0.0), "loss.bad_temperature"),
    (lambda: softmax_breakdown([1.0, 2.0], -1.0), "loss.bad_temperature"),
    (lambda: softmax_breakdown([1.0, 2.0], float("nan")), "loss.bad_temperature"),
    (lambda: cross_entropy_breakdown([1.0, 2.0], 2), "loss.bad_target"),
    (lambda: cross_entropy_breakdown([1.0, 2.0], -1), "loss.bad_target"),
    (lambda: batch_cross_entropy(BATCH, [2, 1, 4]), "loss.bad_target"),
    (lambda: batch_cross_entropy(BATCH, [2, 1]), "loss.label_count"),
    (lambda: batch_cross_entropy([1.0, 2.0], [0]), "loss.bad_shape"),
    (lambda: one_hot([5], 4), "loss.bad_target"),
    (lambda: double_softmax([1.0, 2.0], 3), "loss.bad_target"),
])
def test_invalid_input_is_lab_error(bad, code):
    with pytest.raises(LabError) as info:
        bad()
    assert info.value.code == code


def test_ce_vs_mse_against_the_formulas():
    """d CE / d z_t = p_t - 1; d MSE / d z_t = (2 / C) * sum_i (p_i - y_i) * p_i * (delta_it - p_t)."""
    logits, target = [2.0, 1.0, 0.1], 0
    sweep = ce_vs_mse(logits, target, -10, 10, 41)
    z = torch.tensor(logits, dtype=torch.float64).repeat(41, 1)
    z[:, target] = sweep.true_logit
    p = z.softmax(1)
    y = torch.zeros(3, dtype=torch.float64)
    y[target] = 1.0
    torch.testing.assert_close(sweep.ce, -p[:, target].log())
    torch.testing.assert_close(sweep.mse, ((p - y) ** 2).mean(1))
    torch.testing.assert_close(sweep.ce_grad, p[:, target] - 1)
    delta = torch.zeros(3, dtype=torch.float64)
    delta[target] = 1.0
    want = (2 / 3) * ((p - y) * p * (delta - p[:, target : target + 1])).sum(1)
    torch.testing.assert_close(sweep.mse_grad, want)
    # the lesson: confidently wrong (true logit -10), MSE's push almost vanishes while cross-entropy's stays near -1
    assert sweep.ce_grad[0] < -0.99 and abs(sweep.mse_grad[0]) < 1e-3
