"""Pitfalls: each pair differs in the bug only; the probes measure what the bug does, checked against torch."""
import math

import pytest
import torch
import torch.nn.functional as F

from core.data import to_model_input
from core.errors import LabError
from core.lenet import LeNetConfig, build_lenet
from core.pitfalls import (BASE, ORDERS, PITFALLS, Probe, accumulation, bug_probe, call_order_run, grad_norms,
                           logit_grad_sizes, pitfall_pair, repeated_test, softmax_loss_floor, step_lengths)
from core.training import evaluate, run_to_end


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
    plain = step_lengths(digits.train_images, digits.train_labels, recreate=False, steps=8, batch=32,
                         config=BASE.but(momentum=0.0))
    assert fresh == pytest.approx(plain, rel=1e-4)  # recreated every step = SGD without momentum


def test_a_new_adam_every_step_always_takes_the_first_full_step(digits):
    adam = BASE.but(optimizer="adam", lr=1e-3)  # tanh: every weight gets a gradient
    kept = step_lengths(digits.train_images, digits.train_labels, recreate=False, steps=6, batch=32, config=adam)
    fresh = step_lengths(digits.train_images, digits.train_labels, recreate=True, steps=6, batch=32, config=adam)
    assert fresh == pytest.approx([fresh[0]] * 6, rel=1e-3)  # about lr in every one of the 61,706 weights
    assert fresh[0] == pytest.approx(1e-3 * math.sqrt(61706), rel=0.05) and kept[0] == pytest.approx(fresh[0])
    assert max(kept[1:]) < fresh[0]


def test_probes_follow_the_activation(digits):
    tanh = grad_norms(digits.train_images, digits.train_labels, True, 2, 16)
    relu = grad_norms(digits.train_images, digits.train_labels, True, 2, 16, config=LeNetConfig("relu"))
    assert tanh != pytest.approx(relu)


def test_bug_probe_is_the_three_measurements_by_name(digits):
    cfg = BASE.but(activation="relu", seed=2)
    x, y = digits.train_images, digits.train_labels
    norms = Probe(correct=tuple(grad_norms(x, y, True, 3, 16, 2, cfg.lenet)),
                  mistake=tuple(grad_norms(x, y, False, 3, 16, 2, cfg.lenet)))
    assert bug_probe("no_zero_grad", digits, cfg, 3, 16) == norms
    steps = Probe(correct=tuple(step_lengths(x, y, False, 3, 16, cfg)),
                  mistake=tuple(step_lengths(x, y, True, 3, 16, cfg)))
    assert bug_probe("optimizer_in_loop", digits, cfg, 3, 16) == steps
    logits = build_lenet(cfg.lenet, 2)(to_model_input(digits.test_images[:16])).detach()
    plain, squashed = logit_grad_sizes(logits, digits.test_labels[:16])
    assert bug_probe("softmax_before_loss", digits, cfg, 3, 16) == Probe(correct=(plain,), mistake=(squashed,))
    with pytest.raises(LabError, match="pitfalls.unknown"):
        bug_probe("no_eval", digits, cfg)


@pytest.mark.parametrize("opt,lr", [("sgd", 0.01), ("adam", 1e-3)])
def test_call_order_which_gradient_each_step_used(digits, opt, lr):
    cfg = BASE.but(optimizer=opt, lr=lr, seed=1)
    runs = {o: call_order_run(digits.train_images, digits.train_labels, o, cfg, steps=6, batch=16) for o in ORDERS}
    for o in ("zbs", "bsz"):  # both correct orders: step i uses batch i's fresh gradient, same curve
        assert runs[o].used == tuple(range(6)) and runs[o].failed_at is None
    assert runs["bsz"].losses == runs["zbs"].losses
    stale = runs["szb"]  # step() first: nothing at batch 1, batch 1's gradient at batch 2, then torch refuses
    assert stale.used == (None, 0) and stale.failed_at == 1 and "inplace operation" in stale.error
    model = build_lenet(LeNetConfig(), 1)  # the never-moving orders: every loss is the untrained model's
    x, y = to_model_input(digits.train_images[:96]), digits.train_labels[:96]
    frozen = [F.cross_entropy(model(x[i * 16 : (i + 1) * 16]), y[i * 16 : (i + 1) * 16]).item() for i in range(6)]
    assert stale.losses == pytest.approx(frozen[:2], rel=1e-6)  # its first step() moved nothing
    for o in ("zsb", "bzs", "sbz"):
        assert runs[o].used == (None,) * 6 and not runs[o].learns
        assert runs[o].losses == pytest.approx(frozen, rel=1e-6)
    with pytest.raises(LabError, match="pitfalls.bad_order"):
        call_order_run(digits.train_images, digits.train_labels, "zzb")


@pytest.mark.parametrize("k", [1, 3, 4])
@pytest.mark.parametrize("opt,lr", [("sgd", 0.01), ("adam", 1e-3)])
def test_accumulating_loss_over_k_equals_one_big_batch(digits, k, opt, lr):
    cfg = BASE.but(optimizer=opt, lr=lr)
    a = accumulation(digits.train_images, digits.train_labels, k, cfg, micro=8, updates=2)
    model = build_lenet(LeNetConfig(), 0)  # torch: one backward on the k * 8 digits
    F.cross_entropy(model(to_model_input(digits.train_images[: k * 8])), digits.train_labels[: k * 8]).backward()
    big = torch.cat([p.grad.flatten() for p in model.parameters()])
    torch.testing.assert_close(a.big, big)
    torch.testing.assert_close(a.accumulated, big)
    torch.testing.assert_close(a.undivided, k * big)
    assert a.ratio == pytest.approx(k, rel=1e-5) and a.difference < 1e-6
    assert (a.summary.difference, a.summary.ratio, a.summary.weight_gap, a.summary.weight_gap_undivided) == \
        (a.difference, a.ratio, a.weight_gap, a.weight_gap_undivided)
    if k > 1 and opt == "sgd":  # k times the gradient = k times the learning rate: the weights drift away
        assert a.weight_gap < 1e-5 and a.weight_gap_undivided > 50 * max(a.weight_gap, 1e-7)
    elif k > 1:  # Adam divides by the gradient's running size: scaling it by k almost cancels out
        assert a.weight_gap < 1e-4 and a.weight_gap_undivided < 1e-3
    else:
        assert a.weight_gap_undivided == a.weight_gap == 0.0


def run_snippet(code: str):
    scope: dict = {}
    exec(compile(code, "<snippet>", "exec"), scope)
    return scope["result"]


@pytest.mark.parametrize("order", ["szb", "zsb", "bsz"])
def test_order_snippet_reproduces_core(digits, order):
    from lab.snippets.pitfalls import pitfall_script

    cfg = BASE.but(optimizer="adam", lr=1e-3, activation="relu", seed=2)
    got = run_snippet(pitfall_script("call_order", cfg, order=order, steps=5, batch=16))
    good = call_order_run(digits.train_images, digits.train_labels, "zbs", cfg, 5, 16)
    chosen = call_order_run(digits.train_images, digits.train_labels, order, cfg, 5, 16)
    assert got["correct"] == pytest.approx(good.losses, abs=1e-6)
    assert got["mistake"] == pytest.approx(chosen.losses, abs=1e-6)
    assert tuple(got["used"]) == chosen.used and got["failed_at"] == chosen.failed_at


def test_accumulation_snippet_reproduces_core(digits):
    from lab.snippets.pitfalls import pitfall_script

    cfg = BASE.but(seed=3)
    diff, ratio, gap, gap_undivided = run_snippet(pitfall_script("accumulation", cfg, k=3, micro=16, updates=3))
    a = accumulation(digits.train_images, digits.train_labels, 3, cfg, 16, 3)
    assert ratio == pytest.approx(a.ratio, rel=1e-6) and gap_undivided == pytest.approx(a.weight_gap_undivided, rel=1e-4)
    assert diff < 1e-6 and gap < 1e-5


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


def test_the_pitfalls_base_is_the_course_run():
    """core.course holds the course's short run for every page; the pitfalls lab's BASE must stay that same run."""
    from core.course import COURSE_RUN

    assert BASE == COURSE_RUN
