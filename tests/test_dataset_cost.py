"""The Dataset page's loader numbers stay exact and cheap: the plan and the batch shapes equal iterating a real
DataLoader epoch after epoch, while reading only two batches (issue 16: no link may cost seconds of server CPU)."""
import time

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.utils.data import TensorDataset

from core.dataset import DigitDataset, batch_shapes, epoch_plan, make_loader


def full_epochs(n, batch, shuffle, drop_last, seed, epochs=2):
    """Every batch of `epochs` whole epochs of a real loader over the indices 0..n-1."""
    loader = make_loader(TensorDataset(torch.arange(n)), batch, shuffle, drop_last, seed)
    return [[b[0].tolist() for b in loader] for _ in range(epochs)]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.integers(1, 250), st.booleans(), st.booleans(), st.integers(0, 9999))
def test_plan_equals_iterating_whole_epochs(n, batch, shuffle, drop_last, seed):
    plan = epoch_plan(n, batch, shuffle, drop_last, seed)
    epochs = full_epochs(n, batch, shuffle, drop_last, seed)
    assert plan.iterations == len(epochs[0])
    assert plan.batch_sizes == tuple(len(b) for b in epochs[0])
    assert plan.dropped == n - sum(len(b) for b in epochs[0])
    assert plan.first_batches == tuple(tuple(e[0]) if e else () for e in epochs)


@pytest.mark.parametrize("n,batch,shuffle,drop_last", [(1000, 64, True, False), (1000, 64, True, True),
                                                       (999, 1000, False, False), (50, 64, True, True),
                                                       (130, 1, True, False)])
def test_shapes_equal_iterating_a_real_loader(digits, n, batch, shuffle, drop_last):
    ds = DigitDataset(digits.train_images[:n], digits.train_labels[:n])
    got = batch_shapes(ds, batch, shuffle, drop_last, 3)
    batches = [(tuple(x.shape), tuple(y.shape)) for x, y in make_loader(ds, batch, shuffle, drop_last, 3)]
    assert (got is None) == (not batches)
    if batches:
        assert (got.batches, got.first, got.last) == (len(batches), batches[0], batches[-1])


def test_batch_size_one_over_sixty_thousand_digits_is_cheap():
    """Full MNIST's 60,000 training digits with batch size 1: the worst link to the page (was ~2.5 s of CPU)."""
    images = torch.zeros(60_000, 28, 28, dtype=torch.uint8)
    labels = torch.zeros(60_000, dtype=torch.int64)
    started = time.process_time()
    plan = epoch_plan(60_000, 1, True, False, 7)
    shapes = batch_shapes(DigitDataset(images, labels), 1, True, False, 7)
    spent = time.process_time() - started
    assert plan.iterations == 60_000 and shapes.last == ((1, 1, 28, 28), (1,))
    assert spent < 0.5, f"{spent:.2f} s of CPU"
