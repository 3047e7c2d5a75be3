"""Image to tensor: ToTensor and Normalize match torchvision exactly; histograms match NumPy; layouts agree."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from PIL import Image
from torchvision import transforms

from core.errors import LabError
from core.image_tensor import (digit_stages, histogram, mean_std, norm_params, normalize, pixel_both_ways, preview,
                          sample_picture, stats, to_tensor)


def test_digit_stages_equal_torchvision_compose(digits):
    raw = digits.train_images[7]
    ref = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])(Image.fromarray(raw.numpy()))
    stages = digit_stages(raw, 0.5, 0.5)
    torch.testing.assert_close(stages.unit, transforms.ToTensor()(Image.fromarray(raw.numpy())))
    torch.testing.assert_close(stages.normalized, ref)
    assert stages.unit.shape == (1, 28, 28) and stages.unit.dtype == torch.float32
    assert float(stages.unit.min()) == 0.0 and float(stages.unit.max()) == 1.0  # MNIST digits use the full range
    assert float(stages.normalized.min()) == -1.0 and float(stages.normalized.max()) == 1.0


def test_dataset_mean_std_normalize_matches_torchvision(digits):
    mean, std = norm_params("dataset", digits.train_images)
    assert 0.10 < mean < 0.16 and 0.28 < std < 0.34  # close to the famous MNIST (0.1307, 0.3081)
    raw = digits.train_images[:200]
    x = raw.float().div(255).flatten()
    assert mean_std(raw) == pytest.approx((float(x.double().mean()), float(x.double().std(unbiased=False))))
    img = Image.fromarray(digits.train_images[3].numpy())
    ref = transforms.Normalize((mean,), (std,))(transforms.ToTensor()(img))
    torch.testing.assert_close(digit_stages(digits.train_images[3], mean, std).normalized, ref)
    assert norm_params("course", raw) == (0.5, 0.5)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3, 4]), st.integers(0, 2**31 - 1))
def test_to_tensor_equals_torchvision_for_any_picture(h, w, c, seed):
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    pil = Image.fromarray(arr[..., 0] if c == 1 else arr)
    torch.testing.assert_close(to_tensor(torch.from_numpy(arr if c > 1 else arr[..., 0])), transforms.ToTensor()(pil))


def test_per_channel_normalize_matches_torchvision():
    x = to_tensor(sample_picture())
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]  # the ImageNet values the notes mention
    torch.testing.assert_close(normalize(x, mean, std), transforms.Normalize(mean, std)(x))


@pytest.mark.parametrize("bad", [[0.0], [-1.0], [float("nan")]])
def test_bad_std_is_refused(bad):
    with pytest.raises(LabError) as err:
        normalize(torch.zeros(1, 2, 2), [0.5], bad)
    assert err.value.code == "tensor.bad_std"


def test_other_bad_inputs():
    with pytest.raises(LabError, match="tensor.channels_mismatch"):
        normalize(torch.zeros(3, 2, 2), [0.5], [0.5])
    with pytest.raises(LabError, match="tensor.bad_pixels"):
        to_tensor(torch.zeros(2, 2))  # float, not uint8
    with pytest.raises(LabError, match="tensor.bad_norm"):
        norm_params("imagenet", torch.zeros(1, 2, 2, dtype=torch.uint8))
    with pytest.raises(LabError, match="tensor.bad_bins"):
        histogram(torch.zeros(3), 0, 0, 1)
    with pytest.raises(LabError) as err:
        pixel_both_ways(sample_picture(), 36, 0)
    assert err.value.params == {"row": 36, "col": 0, "height": 36, "width": 48}


@pytest.mark.parametrize("lo,hi", [(0, 255), (0.0, 1.0), (-1.0, 1.0)])
def test_histogram_matches_numpy(digits, lo, hi):
    raw = digits.train_images[0]
    x = raw.float() if hi == 255 else digit_stages(raw, 0.5, 0.5).unit * (hi - lo) + lo
    hist = histogram(x, 20, lo, hi)
    counts, edges = np.histogram(x.double().numpy(), bins=20, range=(lo, hi))
    assert hist.counts.tolist() == counts.tolist()
    np.testing.assert_allclose(hist.edges.numpy(), edges, atol=1e-12)
    assert int(hist.counts.sum()) == 784


def test_pixel_is_the_same_number_in_both_layouts():
    rgb = sample_picture()
    assert tuple(rgb.shape) == (36, 48, 3)
    hwc, chw = pixel_both_ways(rgb, 18, 2)  # the red bar
    assert hwc.tolist() == [255, 0, 0]
    torch.testing.assert_close(chw, hwc.float() / 255)
    assert tuple(to_tensor(rgb).shape) == (3, 36, 48)


def test_stats_and_preview():
    s = stats(torch.tensor([[0, 255]], dtype=torch.uint8))
    assert s.shape == (1, 2) and s.dtype == "torch.uint8" and (s.minimum, s.maximum, s.mean) == (0, 255, 127.5)
    big = torch.rand(3, 400, 200)
    small = preview(big, 100)
    assert tuple(small.shape) == (3, 100, 50)
    assert float(small.mean()) == pytest.approx(float(big.mean()), abs=1e-4)  # area averaging keeps the mean
    assert preview(big, 500) is big


def test_window_stays_inside_the_grid():
    from core.image_tensor import window

    grid = torch.arange(28 * 28).view(28, 28)
    part, origin = window(grid, 10, 9, 9)
    assert origin == (9, 9) and torch.equal(part, grid[9:19, 9:19])
    assert window(grid, 7, 25, -3)[1] == (21, 0)
    part, origin = window(grid, 40, 5, 5)
    assert origin == (0, 0) and torch.equal(part, grid)
    part, origin = window(grid, 0, 3, 4)  # under one cell: one cell
    assert origin == (3, 4) and torch.equal(part, grid[3:4, 4:5])
