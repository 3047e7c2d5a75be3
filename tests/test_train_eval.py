"""train() vs eval(): dropout changes outputs only in train mode, batch norm's running statistics follow the
textbook update, and no_grad keeps nothing for backward."""
import pytest
import torch

from core.data import load_digits, to_model_input
from core.errors import LabError
from core.lenet import build_lenet
from core.train_eval import ModeNet, measure_no_grad, repeat_forward, running_stats


@pytest.fixture(scope="module")
def batch():
    return to_model_input(load_digits().test_images[:16])


def test_train_mode_outputs_change_and_eval_outputs_do_not(batch):
    train = repeat_forward(batch, "train", repeats=4, dropout=0.5, seed=1)
    ev = repeat_forward(batch, "eval", repeats=4, dropout=0.5, seed=1)
    assert train.spread > 0.01 and ev.spread == 0.0
    assert train.tracked == 4 and ev.tracked == 0
    assert not torch.equal(train.running_mean[-1], train.running_mean[0])  # forward passes alone moved them
    assert torch.equal(ev.running_mean[-1], ev.running_mean[0])


def test_repeat_forward_is_what_plain_torch_does(batch):
    run = repeat_forward(batch, "train", repeats=3, dropout=0.3, momentum=0.2, seed=7)
    torch.manual_seed(7)
    model = ModeNet(0.3, 0.2).train()
    with torch.no_grad():
        outs = torch.stack([model(batch)[0] for _ in range(3)])
    torch.testing.assert_close(run.logits, outs)
    torch.testing.assert_close(run.running_mean[-1], model.bn.running_mean)


def test_without_dropout_train_mode_repeats_agree_but_differ_from_eval(batch):
    train = repeat_forward(batch, "train", repeats=3, dropout=0.0)
    ev = repeat_forward(batch, "eval", repeats=3, dropout=0.0)
    assert train.spread == 0.0 and ev.spread == 0.0
    assert not torch.allclose(train.logits[0], ev.logits[0])  # batch statistics vs running statistics


def test_running_stats_follow_the_momentum_update(batch):
    batches = [batch[:8], batch[8:], batch[4:12]]
    trace = running_stats(batches, eval_steps=2, momentum=0.3, seed=2)
    mean = torch.zeros(4)
    for t, mu in enumerate(trace.batch_mean):
        mean = 0.7 * mean + 0.3 * mu
        torch.testing.assert_close(trace.running_mean[t + 1], mean)
    torch.manual_seed(2)
    model = ModeNet(0.0, 0.3)
    feats = [model.conv(b) for b in batches]
    torch.testing.assert_close(trace.batch_mean, torch.stack([f.mean((0, 2, 3)) for f in feats]).detach())
    var = torch.ones(4)
    for f in feats:
        var = 0.7 * var + 0.3 * f.detach().var((0, 2, 3), unbiased=True)
    torch.testing.assert_close(trace.running_var[3], var)
    assert torch.equal(trace.running_mean[3], trace.running_mean[-1])  # the eval passes changed nothing
    assert trace.running_mean.shape == (6, 4) and trace.train_steps == 3


@pytest.mark.parametrize("kwargs,code", [(dict(mode="test"), "modes.bad_mode"), (dict(dropout=1.0), "modes.bad_dropout"),
                                         (dict(momentum=0.0), "modes.bad_momentum"), (dict(repeats=0), "modes.bad_repeats")])
def test_bad_settings(batch, kwargs, code):
    args = dict(mode="train", repeats=2, dropout=0.5, momentum=0.1) | kwargs
    with pytest.raises(LabError) as err:
        repeat_forward(batch, **args)
    assert err.value.code == code


def test_batch_of_one_in_train_mode_is_explained(batch):
    with pytest.raises(LabError, match="modes.batch_of_one"):
        repeat_forward(batch[:1], "train")
    assert repeat_forward(batch[:1], "eval").spread == 0.0


def test_no_grad_saves_nothing_for_backward(batch):
    model = build_lenet().eval()
    small = measure_no_grad(model, batch[:4], repeats=2)
    big = measure_no_grad(model, batch, repeats=2)
    assert small.saved_bytes_no_grad == 0 and big.saved_bytes_no_grad == 0
    assert big.saved_bytes_grad > small.saved_bytes_grad > 0
    assert small.seconds_grad > 0 and small.seconds_no_grad > 0
    params = sum(p.numel() * 4 for p in model.parameters() if p.dim() > 1)  # conv and linear weights are saved
    activations = 4 * 16 * (6 * 28 * 28 + 6 * 14 * 14 + 16 * 10 * 10 + 16 * 5 * 5 + 120 + 84)  # tanh outputs and more
    assert big.saved_bytes_grad >= activations
    # what grows with the batch is activations: 12 more digits add at least their tanh outputs
    assert big.saved_bytes_grad - small.saved_bytes_grad >= 4 * 12 * (6 * 28 * 28 + 16 * 10 * 10)
    assert big.saved_bytes_grad < params + 4 * 16 * 40_000
