"""Attribution maps against hand-computed ones: saliency is |gradient|, integrated gradients add up to f(x) - f(blank)
and match a fine Riemann sum, occlusion is the logit drop averaged over the patches that cover a pixel."""
import pytest
import torch

from core.attribution import PAPER, explain, integrated_gradients, occlusion, saliency
from core.data import load_digits, to_model_input
from core.errors import LabError
from core.lenet import LeNetConfig, build_lenet
from core.training import TrainConfig, run_to_end

COMPLETE, SLACK = 0.02, 0.01  # IG_STEPS Gauss-Legendre points: the sum is within 2% (+ 0.01 logit) of f(x) - f(blank)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def trained(digits):
    """A LeNet trained for one short epoch: confident enough for maps with structure, in well under a second."""
    _, done = run_to_end(TrainConfig(epochs=1, train_size=512, seed=1), digits)
    return done.model.eval()


def digit(digits, i: int) -> torch.Tensor:
    return to_model_input(digits.test_images[i:i + 1])  # (1, 1, 28, 28), normalized


def hand_gradient(model, x, target):
    leaf = x.clone().requires_grad_(True)
    grad, = torch.autograd.grad(model(leaf)[0, target], leaf)
    return grad[0, 0]  # (28, 28)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_saliency_is_the_absolute_gradient_of_the_class_logit(digits, trained, activation):
    for model in (trained, build_lenet(LeNetConfig(activation), seed=2).eval()):
        x = digit(digits, 3)
        for target in (0, 7, int(model(x).argmax())):
            torch.testing.assert_close(saliency(model, x, target), hand_gradient(model, x, target).abs())


def test_integrated_gradients_complete_and_match_a_riemann_sum(digits, trained):
    x = digit(digits, 0)
    blank = torch.full_like(x, PAPER)
    with torch.no_grad():
        fx, fb = trained(x)[0], trained(blank)[0]
    for target in range(10):
        attr, gap = integrated_gradients(trained, x, target)
        change = float(fx[target] - fb[target])
        assert float(attr.sum()) == pytest.approx(change, abs=COMPLETE * abs(change) + SLACK)  # completeness
        assert gap == pytest.approx(float(attr.sum()) - change, abs=1e-4)
    k = 256  # midpoint rule by hand: (x - b) * mean of the gradients along the path
    grads = sum(hand_gradient(trained, blank + (i + 0.5) / k * (x - blank), 4) for i in range(k)) / k
    want = (x - blank)[0, 0] * grads
    attr, _ = integrated_gradients(trained, x, 4, n_steps=128)  # both integrals fine enough to agree closely
    torch.testing.assert_close(attr, want, atol=0.01 * float(want.abs().max()), rtol=0.0)


def test_occlusion_by_hand(digits, trained):
    x, target, window, stride = digit(digits, 5), 6, 4, 2
    with torch.no_grad():
        base = trained(x)[0, target]
        total, count = torch.zeros(28, 28), torch.zeros(28, 28)
        for top in range(0, 28 - window + 1, stride):
            for left in range(0, 28 - window + 1, stride):
                y = x.clone()
                y[..., top:top + window, left:left + window] = PAPER
                total[top:top + window, left:left + window] += base - trained(y)[0, target]
                count[top:top + window, left:left + window] += 1
    torch.testing.assert_close(occlusion(trained, x, target, window=window, stride=stride), total / count)


def test_explain_names_the_runner_up_and_what_pushes_towards_it(digits, trained):
    for i in (0, 1, 2):
        x = digit(digits, i)
        e = explain(trained, x)
        with torch.no_grad():
            logits, blank = trained(x)[0], trained(torch.full_like(x, PAPER))[0]
        order = torch.softmax(logits, 0).argsort(descending=True).tolist()
        assert (e.predicted, e.runner_up) == (order[0], order[1])
        torch.testing.assert_close(e.probs, torch.softmax(logits, 0))
        torch.testing.assert_close(e.saliency, hand_gradient(trained, x, e.predicted).abs())
        margin = float((logits[e.runner_up] - logits[e.predicted]) - (blank[e.runner_up] - blank[e.predicted]))
        assert float(e.towards.sum()) == pytest.approx(margin, abs=COMPLETE * abs(margin) + SLACK)
        assert all(m.shape == (28, 28) for m in (e.saliency, e.integrated, e.occlusion, e.towards))


def test_explain_is_repeatable_and_leaves_the_shared_model_alone(digits, trained):
    x = digit(digits, 9)
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    grads = [None if p.grad is None else p.grad.clone() for p in trained.parameters()]  # what training left there
    a, b = explain(trained, x), explain(trained, x)
    for name in ("saliency", "integrated", "occlusion", "towards"):
        torch.testing.assert_close(getattr(a, name), getattr(b, name), rtol=0, atol=0)
    assert not trained.training
    for p, g in zip(trained.parameters(), grads):  # Captum differentiates w.r.t. the input only
        assert (p.grad is None and g is None) or torch.equal(p.grad, g)
    assert all(torch.equal(v, trained.state_dict()[k]) for k, v in before.items())
    assert not x.requires_grad


@pytest.mark.parametrize("bad", [torch.zeros(28, 28), torch.zeros(2, 1, 28, 28), torch.zeros(1, 3, 28, 28),
                                 torch.zeros(1, 1, 28, 28, dtype=torch.uint8), torch.full((1, 1, 28, 28), float("nan"))])
def test_bad_input_is_a_lab_error(trained, bad):
    with pytest.raises(LabError) as info:
        explain(trained, bad)
    assert info.value.code in ("attr.bad_input", "attr.not_finite")
