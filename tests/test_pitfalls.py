"""Pitfalls: each pair differs in the bug only; the probes measure what the bug does, checked against torch."""
import math

import pytest
import torch
import torch.nn.functional as F

from core.data import load_digits, to_model_input
from core.errors import LabError
from core.lenet import LeNetConfig, build_lenet
from core.pitfalls import (BASE, PITFALLS, grad_norms, logit_grad_sizes, pitfall_pair, repeated_test,
                           softmax_loss_floor, step_lengths)
from core.training import evaluate, run_to_end


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def differences(a, b):
    return {f for f in a.__dataclass_fields__ if getattr(a, f) != getattr(b, f)}


@pytest.mark.parametrize("name,fields", [("no_zero_grad", {"mistake"}), ("optimizer_in_loop", {"mistake"}),
                                         ("softmax_before_loss", {"mistake"}), ("no_eval", {"mistake"}),
                                         ("no_normalize", {"normalize"})])
def test_pairs_differ_in_the_pitfall_only(name, fields):
    correct, wrong = pitfall_pair(name, BASE.but(seed=3))
    assert differences(correct, wrong) == fields
    assert correct.mistake == "none" and correct.normalize and correct.seed == 3
    if name == "no_eval":
        assert correct.dropout == 0.5 and pitfall_pair(name, BASE.but(dropout=0.3))[1].dropout == 0.3
    with pytest.raises(LabError, match="pitfalls.unknown"):
        pitfall_pair("no_backward")
    assert set(PITFALLS) == {"no_zero_grad", "optimizer_in_loop", "softmax_before_loss", "no_eval", "no_normalize"}


def test_without_zero_grad_grad_holds_the_running_sum(digits):
    cleared = grad_norms(digits.train_images, digits.train_labels, zero_grad=True, steps=4, batch=32)
    piled = grad_norms(digits.train_images, digits.train_labels, zero_grad=False, steps=4, batch=32)
    assert cleared[0] == pytest.approx(piled[0])
    model = build_lenet(LeNetConfig())
    x, y = to_model_input(digits.train_images[:128]), digits.train_labels[:128]
    for i in range(4):  # summing four batch gradients by hand gives the same norm
        F.cross_entropy(model(x[i * 32 : (i + 1) * 32]), y[i * 32 : (i + 1) * 32]).backward()
    assert piled[-1] == pytest.approx(float(torch.cat([p.grad.flatten() for p in model.parameters()]).norm()), rel=1e-5)
    assert piled[-1] > 1.5 * max(cleared)


def test_a_new_optimizer_every_step_loses_momentum(digits):
    kept = step_lengths(digits.train_images, digits.train_labels, recreate=False, steps=8, batch=32)
    fresh = step_lengths(digits.train_images, digits.train_labels, recreate=True, steps=8, batch=32)
    assert kept[0] == pytest.approx(fresh[0])  # the first step is the same: no velocity yet
    assert kept[-1] > 2 * fresh[-1]  # velocity builds up only when the optimizer lives on
    plain = step_lengths(digits.train_images, digits.train_labels, recreate=False, steps=8, batch=32, momentum=0.0)
    assert fresh == pytest.approx(plain, rel=1e-4)  # recreated every step = SGD without momentum


def test_softmax_before_the_loss(digits):
    assert softmax_loss_floor() == pytest.approx(math.log(1 + 9 / math.e))
    assert softmax_loss_floor(2) == pytest.approx(math.log(1 + 1 / math.e))
    with pytest.raises(LabError, match="pitfalls.bad_classes"):
        softmax_loss_floor(1)
    logits = build_lenet()(to_model_input(digits.test_images[:64]))
    plain, squashed = logit_grad_sizes(logits, digits.test_labels[:64])
    z = logits.detach().clone().requires_grad_(True)
    F.cross_entropy(z, digits.test_labels[:64]).backward()
    assert plain == pytest.approx(float(z.grad.abs().mean()))
    assert squashed < plain / 3


def test_testing_without_eval_gives_changing_scores_and_leaves_the_model_alone(digits):
    correct, wrong = pitfall_pair("no_eval", BASE.but(train_size=300, epochs=1, batch_size=32))
    _, done = run_to_end(wrong, digits)
    model = done.model
    state = model.drop.generator.get_state()
    scores = repeated_test(model, digits.test_images[:300], digits.test_labels[:300], repeats=3)
    assert len(set(scores.with_eval)) == 1 and len(set(scores.without_eval)) > 1
    x = to_model_input(digits.test_images[:300])
    assert scores.with_eval[0] == evaluate(model, x, digits.test_labels[:300])[1]
    assert not model.training and torch.equal(state, model.drop.generator.get_state())
    with pytest.raises(LabError, match="pitfalls.bad_probe"):
        grad_norms(digits.train_images[:10], digits.train_labels[:10], True, steps=2, batch=8)
