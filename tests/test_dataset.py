"""Dataset / DataLoader: real torch objects, iterations per epoch equal len(DataLoader), gradient noise shrinks."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch.utils.data import DataLoader, TensorDataset

from core.data import to_model_input
from core.errors import LabError
from core.lenet import build_lenet
from core.dataset import (DigitDataset, batch_shapes, epoch_plan, evaluate_loader, flat_gradient, gradient_noise,
                          iterations_per_epoch, last_batch_size, make_loader, sampling_theory, scaled_lr)
from core.training import evaluate


def test_dataset_hands_out_one_normalized_sample(digits):
    ds = DigitDataset(digits.train_images, digits.train_labels)
    assert len(ds) == len(digits.train_labels)
    x, y = ds[5]
    torch.testing.assert_close(x, to_model_input(digits.train_images[5:6])[0])
    assert x.shape == (1, 28, 28) and y == int(digits.train_labels[5])
    x_raw, _ = DigitDataset(digits.train_images, digits.train_labels, normalize=False)[5]
    assert float(x_raw.min()) >= 0 and float(x.min()) == -1.0
    with pytest.raises(LabError, match="loader.index_outside"):
        ds[len(ds)]
    with pytest.raises(LabError, match="loader.length_mismatch"):
        DigitDataset(digits.train_images[:3], digits.train_labels[:2])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.integers(1, 400), st.booleans())
def test_iterations_equal_len_of_a_real_dataloader(n, batch, drop_last):
    loader = DataLoader(TensorDataset(torch.arange(n)), batch_size=batch, drop_last=drop_last)
    assert iterations_per_epoch(n, batch, drop_last) == len(loader)
    sizes = [len(b[0]) for b in loader]
    assert last_batch_size(n, batch, drop_last) == (sizes[-1] if sizes else 0)


def test_the_notes_example():
    assert iterations_per_epoch(1000, 100, False) == 10  # the notes: 1000 samples, batch 100 -> 10 updates
    assert iterations_per_epoch(1000, 64, False) == 16 and iterations_per_epoch(1000, 64, True) == 15
    assert last_batch_size(1000, 64, False) == 40 and last_batch_size(1000, 64, True) == 64
    assert iterations_per_epoch(10, 64, True) == 0 and last_batch_size(10, 64, True) == 0


def test_loader_batches_are_seeded_and_reshuffled_each_epoch(digits):
    ds = DigitDataset(digits.train_images[:200], digits.train_labels[:200])
    plan = epoch_plan(200, 32, shuffle=True, drop_last=True, seed=3)
    again = epoch_plan(200, 32, shuffle=True, drop_last=True, seed=3)
    assert plan == again  # same seed, same batches
    assert plan.iterations == 6 and plan.batch_sizes == (32,) * 6 and plan.dropped == 8
    assert plan.first_batches[0] != plan.first_batches[1]  # a new order every epoch
    ordered = epoch_plan(200, 32, shuffle=False, drop_last=False, seed=3)
    assert ordered.first_batches == (tuple(range(32)), tuple(range(32))) and ordered.batch_sizes[-1] == 8
    # the plan is what iterating the loader yields
    loader = make_loader(ds, 32, shuffle=True, drop_last=True, seed=3)
    for epoch in range(2):  # whole epochs, as training does (the sampler draws again at the end of an epoch)
        xb, yb = list(loader)[0]
        idx = list(plan.first_batches[epoch])
        torch.testing.assert_close(yb, digits.train_labels[idx])
        torch.testing.assert_close(xb, to_model_input(digits.train_images[idx]))


@pytest.mark.parametrize("n,batch", [(0, 4), (5, 0), (5, -1)])
def test_bad_sizes(n, batch):
    with pytest.raises(LabError):
        iterations_per_epoch(n, batch, False)


def test_linear_scaling_rule():
    assert scaled_lr(0.1, 256, 512) == pytest.approx(0.2)  # the notes' example
    assert scaled_lr(0.01, 64, 16) == pytest.approx(0.0025)
    with pytest.raises(LabError, match="loader.bad_lr"):
        scaled_lr(0.0, 64, 128)
    with pytest.raises(LabError, match="loader.bad_batch"):
        scaled_lr(0.1, 64, 0)


def test_flat_gradient_in_chunks_equals_one_big_batch(digits):
    model = build_lenet()
    x, y = to_model_input(digits.train_images[:300]), digits.train_labels[:300]
    chunked = flat_gradient(model, x, y, chunk=128)
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    torch.testing.assert_close(chunked, torch.cat([p.grad.flatten() for p in model.parameters()]))
    assert chunked.numel() == 61706


def test_gradient_noise_shrinks_with_batch_size(digits):
    noise = gradient_noise(digits.train_images[:600], digits.train_labels[:600], [8, 32, 128, 600], batches=6)
    means = [g.mean for g in noise]
    assert means[0] > means[1] > means[2] > 0
    assert noise[-1].deviations == pytest.approx((0.0,), abs=1e-5)  # the whole set: exactly the full gradient
    assert len(noise[0].deviations) == 6 and len(noise[2].deviations) == 4  # 600 // 128 batches only
    theory = sampling_theory(600, noise[0], [8, 32, 128, 600])
    assert theory[0] == pytest.approx(means[0]) and theory[-1] == 0.0
    assert theory[1] == pytest.approx(means[0] * math.sqrt(8 / 32 * 568 / 592))
    with pytest.raises(LabError, match="loader.batch_too_large"):
        gradient_noise(digits.train_images[:50], digits.train_labels[:50], [64], batches=2)


def test_batch_shapes_come_from_a_real_loader(digits):
    ds = DigitDataset(digits.train_images[:1000], digits.train_labels[:1000])
    s = batch_shapes(ds, 64, shuffle=True, drop_last=False, seed=0)
    assert s.batches == 16 and s.first == ((64, 1, 28, 28), (64,)) and s.last == ((40, 1, 28, 28), (40,))
    assert batch_shapes(ds, 64, True, True, 0).last == ((64, 1, 28, 28), (64,))
    assert batch_shapes(ds, 2000, True, True, 0) is None


def test_test_batch_size_changes_only_the_time(digits):
    model = build_lenet()
    ds = DigitDataset(digits.test_images[:250], digits.test_labels[:250])
    passes = [evaluate_loader(model, ds, b) for b in (1, 64, 100, 250)]
    loss, acc, _ = evaluate(model, to_model_input(digits.test_images[:250]), digits.test_labels[:250])
    for p in passes:
        assert p.accuracy == acc and p.mean_loss == pytest.approx(loss, rel=1e-5) and p.seconds > 0
    assert [p.batches for p in passes] == [250, 4, 3, 1] and [p.last_batch for p in passes] == [1, 58, 50, 250]
    # the notes' test(): sum of batch means / number of batches, by hand for batch 100 (100, 100, 50)
    x, y = to_model_input(digits.test_images[:250]), digits.test_labels[:250]
    with torch.no_grad():
        means = [F.cross_entropy(model(x[i : i + 100]), y[i : i + 100]).item() for i in (0, 100, 200)]
    assert passes[2].mean_of_batch_means == pytest.approx(sum(means) / 3, rel=1e-6)
    assert passes[2].mean_of_batch_means != pytest.approx(passes[2].mean_loss, rel=1e-5)
    assert passes[0].mean_of_batch_means == pytest.approx(passes[0].mean_loss, rel=1e-6)  # equal batches: no slip


def test_epoch_plan_names_the_samplers():
    assert (epoch_plan(10, 4, True, False, 0).sampler, epoch_plan(10, 4, False, False, 0).sampler) == \
        ("RandomSampler", "SequentialSampler")
    assert epoch_plan(10, 4, True, False, 0).batch_sampler == "BatchSampler"
