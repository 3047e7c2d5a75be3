"""Data augmentation against torchvision itself: seeded, reproducible, and exactly RandomAffine's transform."""
import pytest
import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from core.augment import augment
from core.data import load_digits
from core.errors import LabError


@pytest.fixture(scope="module")
def digit() -> torch.Tensor:
    return load_digits().test_images[0]  # (28, 28) uint8


def test_each_copy_is_torchvisions_affine_with_the_drawn_parameters(digit):
    a = augment(digit, n=6, degrees=20, shift=0.1, zoom=0.2, seed=3)
    x = digit.float().div(255)[None]
    for i in range(6):
        want = TF.affine(x, angle=a.angles[i], translate=list(a.shifts[i]), scale=a.scales[i], shear=[0.0, 0.0])[0]
        torch.testing.assert_close(a.variants[i], want)
        assert abs(a.angles[i]) <= 20 and 0.8 <= a.scales[i] <= 1.2 and max(map(abs, a.shifts[i])) <= 3


def test_same_as_random_affine_under_the_same_seed(digit):
    a = augment(digit, n=3, degrees=10, shift=0.05, zoom=0.1, seed=7)
    torch.manual_seed(7)
    t = v2.RandomAffine(degrees=10, translate=(0.05, 0.05), scale=(0.9, 1.1))
    x = digit.float().div(255)[None]
    for i in range(3):
        torch.testing.assert_close(a.variants[i], t(x)[0])


def test_seeded_and_identity(digit):
    one, two = augment(digit, seed=1), augment(digit, seed=1)
    torch.testing.assert_close(one.variants, two.variants)
    assert not torch.equal(one.variants, augment(digit, seed=2).variants)
    still = augment(digit, n=2, degrees=0, shift=0, zoom=0)
    torch.testing.assert_close(still.variants, still.original.expand(2, 28, 28))


@pytest.mark.parametrize("kwargs, code", [({"n": 0}, "augment.bad_count"), ({"n": 17}, "augment.bad_count"),
                                          ({"degrees": -1}, "augment.bad_range"), ({"shift": 0.9}, "augment.bad_range"),
                                          ({"zoom": 1.0}, "augment.bad_range")])
def test_bad_settings(digit, kwargs, code):
    with pytest.raises(LabError) as info:
        augment(digit, **kwargs)
    assert info.value.code == code
