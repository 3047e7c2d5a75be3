"""Snapshots of a learning model: the same numbers as the model's own (within the stored precision), no effect on the
run, a deterministic digit, and a measured size."""
import io

import pytest
import torch

from core.data import load_digits, to_model_input
from core.errors import LabError
from core.lenet import LeNetConfig, apply_preset, build_lenet
from core.snapshots import (SNAPSHOT_LABEL, first_epoch_batches, from_bytes, pack, pick_digit, take_snapshot,
                            to_bytes, unpack)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def x(digits):
    i = pick_digit(digits.test_images, digits.test_labels)
    return to_model_input(digits.test_images[i:i + 1])  # (1, 1, 28, 28)


def saved_size(obj) -> int:
    return len(saved_of(obj))


def test_pick_digit_is_a_typical_seven_and_always_the_same(digits):
    i = pick_digit(digits.test_images, digits.test_labels)
    assert int(digits.test_labels[i]) == SNAPSHOT_LABEL and i == pick_digit(digits.test_images, digits.test_labels)
    sevens = digits.test_images[digits.test_labels == SNAPSHOT_LABEL].flatten(1).double().sum(1)
    ink = float(digits.test_images[i].double().sum())
    assert (sevens < ink).sum() <= len(sevens) // 2 and (sevens > ink).sum() <= len(sevens) // 2  # the median
    assert int(digits.test_labels[pick_digit(digits.test_images, digits.test_labels, 3)]) == 3
    with pytest.raises(LabError) as info:
        pick_digit(digits.test_images[:5], torch.zeros(5, dtype=torch.long), 7)
    assert info.value.code == "snap.no_digit"


def test_first_epoch_batches():
    assert first_epoch_batches(63) == (1, 4, 16)  # 4,000 digits in batches of 64
    assert first_epoch_batches(938) == (1, 4, 16, 64, 256)  # full MNIST
    assert first_epoch_batches(1) == () and first_epoch_batches(4) == (1,)


@pytest.mark.parametrize("config", [LeNetConfig(), LeNetConfig("relu", kernel_size=3, conv1_padding=0),
                                    apply_preset(LeNetConfig(), "tiny"), apply_preset(LeNetConfig(), "wide")], ids=str)
def test_snapshot_holds_the_models_numbers(config, x):
    model = build_lenet(config, seed=3)
    snap = take_snapshot(model, x, 2, 17)
    with torch.no_grad():
        outs = model.eval().forward_all(x)
    c1, k = config.conv1_channels, config.kernel_size
    assert snap.filters.shape == (c1, k, k) and snap.filters.dtype == torch.float16
    torch.testing.assert_close(snap.filters.float(), model.conv1.weight[:, 0].detach(), atol=1e-3, rtol=1e-3)
    maps = outs["act1"][0]  # (C1, H, W)
    assert snap.maps.shape == maps.shape and snap.maps.dtype == torch.uint8
    step = (snap.high - snap.low) / 255
    assert float((snap.feature_maps() - maps).abs().max()) <= step / 2 + 1e-6
    torch.testing.assert_close(snap.probs.float(), torch.softmax(outs["fc3"][0], 0), atol=1e-3, rtol=0)
    assert (snap.epoch, snap.batch) == (2, 17)
    assert snap.nbytes == c1 * k * k * 2 + maps.numel() + 10 * 2 + 16


def test_a_snapshot_does_not_disturb_the_run(x):
    """Dropout's own generator is untouched and the training mode comes back: the next step is the same as without."""
    a, b = build_lenet(LeNetConfig(dropout=0.5), seed=1), build_lenet(LeNetConfig(dropout=0.5), seed=1)
    a.train(), b.train()
    take_snapshot(a, x, 1, 1)
    assert a.training
    batch = torch.randn(8, 1, 28, 28)
    torch.testing.assert_close(a(batch), b(batch), rtol=0, atol=0)
    a.eval()
    take_snapshot(a, x, 1, 2)
    assert not a.training


def test_pack_round_trip_through_weights_only_loading_and_its_size(x):
    model = build_lenet()
    snaps = []
    for epoch, batch in [(0, 0), *((1, b) for b in first_epoch_batches(63)), *((e, 63) for e in range(1, 11))]:
        with torch.no_grad():
            model.conv1.weight.mul_(1.05)  # something changes between snapshots
        snaps.append(take_snapshot(model, x, epoch, batch))
    assert len(snaps) == 14  # before training, 3 in the first epoch, one per epoch for 10 epochs
    buf = io.BytesIO()
    torch.save(pack(snaps), buf)
    back = unpack(torch.load(io.BytesIO(buf.getvalue()), weights_only=True))
    assert [(s.epoch, s.batch) for s in back] == [(s.epoch, s.batch) for s in snaps]
    for s, t in zip(snaps, back):
        assert torch.equal(s.filters, t.filters) and torch.equal(s.maps, t.maps) and torch.equal(s.probs, t.probs)
        assert (t.low, t.high) == pytest.approx((s.low, s.high))
    # The size, measured: 5,040 bytes of data per classic snapshot; the 14 of a 10-epoch run add about 73 kB to a
    # checkpoint whose weights take about 251 kB (under a third more).
    assert sum(s.nbytes for s in snaps) == 14 * 5040
    assert saved_size(pack(snaps)) < 80_000 and saved_size(model.state_dict()) > 240_000
    assert unpack({}) == () and pack([]) == {}


@pytest.mark.parametrize("bad", [{"when": torch.zeros(1, 2)}, {"when": 3, "range": 4, "filters": 5, "maps": 6, "probs": 7},
                                 {"when": torch.zeros(1, 2), "range": torch.zeros(1, 2), "filters": torch.zeros(1, 6, 5, 5),
                                  "maps": torch.zeros(1, 6, 28, 28), "probs": torch.zeros(1, 10)}])
def test_damaged_packs_are_refused(bad):
    with pytest.raises(LabError) as info:
        unpack(bad)
    assert info.value.code == "snap.damaged"


def test_a_snapshot_crosses_a_process_boundary_as_bytes_and_bad_bytes_are_refused(x):
    """What a Ray training task sends to the job table (which has no torch) and a replica decodes."""
    snap = take_snapshot(build_lenet(LeNetConfig(), seed=2), x, 1, 4)
    back = from_bytes(to_bytes(snap))
    assert (back.epoch, back.batch, back.low, back.high) == (snap.epoch, snap.batch, snap.low, snap.high)
    for a, b in ((back.filters, snap.filters), (back.maps, snap.maps), (back.probs, snap.probs)):
        assert torch.equal(a, b)
    for bad in (b"", b"not a snapshot", to_bytes(snap)[:-20], saved_of({"when": torch.zeros(2, 2)})):
        with pytest.raises(LabError) as info:
            from_bytes(bad)
        assert info.value.code == "snap.damaged"


def saved_of(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()
