"""core.conv against torch: outputs, every step, output sizes, and the same settings rejected."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.conv import NOTES_CLAIMED_TOP_LEFT, NOTES_IMAGE, NOTES_KERNEL, arithmetic_terms, conv_trace, output_size
from core.errors import LabError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def torch_conv(image, kernel, bias, stride, padding, dilation):
    """The oracle: F.conv2d on the same input as one batch of one output channel."""
    x = image if image.dim() == 3 else image[None]
    k = kernel if kernel.dim() == 3 else kernel[None]
    return F.conv2d(x[None], k[None], torch.tensor([bias], dtype=x.dtype), stride=stride, padding=padding,
                    dilation=dilation)[0, 0]


def test_notes_example_true_sum_is_minus_two():
    trace = conv_trace(NOTES_IMAGE, NOTES_KERNEL)
    first = trace.steps[0]
    assert (first.row, first.col) == (0, 0)
    torch.testing.assert_close(first.window[0], NOTES_IMAGE[:3, :3])
    # (1x1 + 1x0 + 1x(-1)) + (0x1 + 1x0 + 1x(-1)) + (0x1 + 0x0 + 1x(-1)): the right column gives -1 three times
    assert first.total == -2.0 != NOTES_CLAIMED_TOP_LEFT
    assert trace.output[0, 0].item() == -2.0
    torch.testing.assert_close(trace.output, torch.tensor([[-2.0, 0, 2], [-3, -2, 2], [-3, -1, 2]]))
    terms = arithmetic_terms(first, NOTES_KERNEL)
    assert terms[0][0] == [(1.0, 1.0), (1.0, 0.0), (1.0, -1.0)]
    assert sum(a * b for row in terms[0] for a, b in row) == -2.0


@st.composite
def conv_case(draw, valid_only: bool = True):
    """A random image, kernel and settings; with valid_only=False, settings torch may reject."""
    c = draw(st.integers(1, 3))
    multi = c > 1 or draw(st.booleans())
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    lo = 1 if valid_only else -1
    stride, dilation = draw(st.integers(lo, 4)), draw(st.integers(lo, 3))
    padding = draw(st.integers(0 if valid_only else -1, 3))
    kc = c if valid_only else draw(st.sampled_from([c, c, c, c + 1]))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    image = torch.randn((c, h, w) if multi else (h, w), generator=gen)
    kernel = torch.randn((kc, kh, kw) if multi else (kh, kw), generator=gen)
    bias = draw(st.floats(-2, 2))
    return image, kernel, bias, stride, padding, dilation


@FAST
@given(conv_case(valid_only=False))
def test_same_accept_reject_set_as_torch(case):
    image, kernel, bias, stride, padding, dilation = case
    try:
        expected = torch_conv(image, kernel, bias, stride, padding, dilation)
    except RuntimeError:
        with pytest.raises(LabError):
            conv_trace(image, kernel, bias, stride, padding, dilation)
        return
    trace = conv_trace(image, kernel, bias, stride, padding, dilation)
    torch.testing.assert_close(trace.output, expected)


@FAST
@given(conv_case())
def test_output_and_every_step_match_torch(case):
    image, kernel, bias, stride, padding, dilation = case
    try:
        expected = torch_conv(image, kernel, bias, stride, padding, dilation)
    except RuntimeError:
        with pytest.raises(LabError, match="conv.kernel_too_large"):
            conv_trace(image, kernel, bias, stride, padding, dilation)
        return
    trace = conv_trace(image, kernel, bias, stride, padding, dilation)
    torch.testing.assert_close(trace.output, expected)
    h, w = image.shape[-2:]
    kh, kw = kernel.shape[-2:]
    assert tuple(expected.shape) == output_size(h, w, (kh, kw), stride, padding, dilation)
    assert len(trace.steps) == expected.numel()
    k = kernel if kernel.dim() == 3 else kernel[None]
    x = F.pad(image if image.dim() == 3 else image[None], (padding,) * 4)
    for n, step in enumerate(trace.steps):
        assert (step.row, step.col) == divmod(n, expected.shape[1])  # row-major
        rows, cols = trace.field(step.row, step.col)
        window = x[:, rows][:, :, cols]  # the pixels the kernel touches, gaps skipped
        torch.testing.assert_close(step.window, window)
        torch.testing.assert_close(step.products, window * k)
        torch.testing.assert_close(step.channel_sums, (window * k).sum((1, 2)))
        assert step.total == pytest.approx(expected[step.row, step.col].item(), abs=1e-4)
    torch.testing.assert_close(trace.channel_outputs.sum(0) + bias, expected)


@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 7), st.integers(1, 4), st.integers(0, 4),
       st.integers(1, 3))
@settings(max_examples=200, deadline=None)
def test_output_size_is_torchs_rule(h, w, k, s, p, d):
    try:
        shape = F.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape
    except RuntimeError:
        with pytest.raises(LabError):
            output_size(h, w, k, s, p, d)
        return
    assert output_size(h, w, k, s, p, d) == tuple(shape[-2:])
    assert output_size(h, w, k, s, p, d)[0] == (h + 2 * p - d * (k - 1) - 1) // s + 1


def test_lenet_sizes():
    assert output_size(28, 28, 5, 1, 2) == (28, 28)  # conv1 keeps 28x28
    assert output_size(14, 14, 5) == (10, 10)  # conv2
    assert output_size(5, 5, 3) == (3, 3)  # the notes' example


def test_rgb_channels_add_up():
    image, kernel = torch.rand(3, 6, 6), torch.randn(3, 3, 3)
    trace = conv_trace(image, kernel, bias=0.5, stride=2, padding=1)
    torch.testing.assert_close(trace.output, F.conv2d(image[None], kernel[None], torch.tensor([0.5]), 2, 1)[0, 0])
    step = trace.step(1, 2)
    assert step.total == pytest.approx(float(step.channel_sums.sum()) + 0.5, abs=1e-5)
    torch.testing.assert_close(trace.channel_outputs[:, 1, 2], step.channel_sums)


def test_matches_nn_conv2d_layer():
    layer = torch.nn.Conv2d(1, 1, 5, padding=2)
    image = torch.rand(28, 28)
    trace = conv_trace(image, layer.weight[0, 0].detach(), float(layer.bias.detach()), padding=2)
    torch.testing.assert_close(trace.output, layer(image[None, None])[0, 0].detach())


def test_integer_inputs_are_float32():
    trace = conv_trace(NOTES_IMAGE.long(), NOTES_KERNEL.long())
    assert trace.output.dtype == torch.float32 and trace.output[0, 0] == -2


@pytest.mark.parametrize("kwargs,code", [
    (dict(stride=0), "conv.bad_stride"), (dict(stride=-2), "conv.bad_stride"),
    (dict(padding=-1), "conv.negative_padding"), (dict(dilation=0), "conv.bad_dilation"),
    (dict(dilation=3), "conv.kernel_too_large"), (dict(stride=1.5), "conv.not_integer"),
    (dict(padding=True), "conv.not_integer"),
])
def test_bad_settings(kwargs, code):
    with pytest.raises(LabError) as err:
        conv_trace(NOTES_IMAGE, NOTES_KERNEL, **kwargs)
    assert err.value.code == code
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("image,kernel,code", [
    (torch.ones(2, 2), torch.ones(3, 3), "conv.kernel_too_large"),
    (torch.ones(5), torch.ones(3, 3), "conv.bad_shape"),
    (torch.ones(1, 1, 5, 5), torch.ones(3, 3), "conv.bad_shape"),
    (torch.ones(3, 5, 5), torch.ones(3, 3), "conv.channels_mismatch"),
    (torch.ones(5, 5), torch.ones(2, 3, 3), "conv.channels_mismatch"),
    (torch.ones(0, 5, 5), torch.ones(0, 3, 3), "conv.no_channels"),
    (torch.ones(0, 5), torch.ones(1, 1), "conv.empty_image"),
    (torch.ones(5, 5), torch.ones(0, 3), "conv.empty_kernel"),
    (torch.ones(5, 5, dtype=torch.float64), torch.ones(3, 3), "conv.dtype_mismatch"),
    (torch.ones(5, 5, dtype=torch.bool), torch.ones(3, 3), "conv.bad_dtype"),
    ([[1.0]], torch.ones(1, 1), "conv.bad_shape"),
])
def test_bad_inputs(image, kernel, code):
    with pytest.raises(LabError) as err:
        conv_trace(image, kernel)
    assert err.value.code == code


def test_torch_rejects_what_we_reject():
    """The inputs above that torch can take at all fail there too (zero channels: torch returns an empty map)."""
    for image, kernel in [(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 3)), (torch.ones(1, 3, 5, 5), torch.ones(1, 1, 3, 3)),
                          (torch.ones(1, 1, 0, 5), torch.ones(1, 1, 1, 1)), (torch.ones(1, 1, 5, 5), torch.ones(1, 1, 0, 3)),
                          (torch.ones(1, 1, 5, 5, dtype=torch.float64), torch.ones(1, 1, 3, 3))]:
        with pytest.raises(RuntimeError):
            F.conv2d(image, kernel)
    assert F.conv2d(torch.ones(1, 0, 5, 5), torch.ones(1, 0, 3, 3)).shape[1] == 0  # no [H_out, W_out] map to show


@FAST
@given(conv_case(), st.sampled_from([0.0, -1.0, 0.5, 3.0]))
def test_padding_with_a_value_is_f_pad_then_conv2d(case, value):
    image, kernel, bias, stride, padding, dilation = case
    x = image if image.dim() == 3 else image[None]
    k = kernel if kernel.dim() == 3 else kernel[None]
    padded = F.pad(x, (padding,) * 4, value=value)  # the oracle: torch pads, then convolves with no padding
    try:
        expected = F.conv2d(padded[None], k[None], torch.tensor([bias]), stride=stride, dilation=dilation)[0, 0]
    except RuntimeError:
        with pytest.raises(LabError, match="conv.kernel_too_large"):
            conv_trace(image, kernel, bias, stride, padding, dilation, pad_value=value)
        return
    trace = conv_trace(image, kernel, bias, stride, padding, dilation, pad_value=value)
    torch.testing.assert_close(trace.output, expected)
    torch.testing.assert_close(trace.padded, padded)
    assert trace.pad_value == value
    for step in trace.steps:
        assert step.total == pytest.approx(expected[step.row, step.col].item(), abs=1e-4)


def test_normalised_digit_padded_with_its_background_has_no_frame():
    """Zeros next to a -1 background make an edge all round the map (LeNet's conv1 frame); -1 makes none."""
    digit = -torch.ones(8, 8)  # a normalised digit's background
    digit[3:5, 3:5] = 1.0
    blur = torch.full((3, 3), 1 / 9)
    zeros, background = conv_trace(digit, blur, padding=1), conv_trace(digit, blur, padding=1, pad_value=-1.0)
    assert zeros.output[0, 0].item() == pytest.approx(-4 / 9)  # the corner sees 5 zeros: a bright frame
    assert background.output[0, 0].item() == pytest.approx(-1.0)  # the background continues: no frame
    replicate = F.conv2d(F.pad(digit[None, None], (1,) * 4, mode="replicate"), blur[None, None])[0, 0]
    torch.testing.assert_close(background.output, replicate)  # what padding_mode="replicate" gives a digit


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, "0"])
def test_bad_pad_value(value):
    with pytest.raises(LabError) as err:
        conv_trace(NOTES_IMAGE, NOTES_KERNEL, padding=1, pad_value=value)
    assert err.value.code == "conv.bad_pad_value"


def test_background_of_a_digit():
    from core.conv import background
    from core.data import normalize, to_unit
    assert background(False) == 0.0 and background(True) == -1.0
    assert background(True) == float(normalize(to_unit(torch.tensor([[0]], dtype=torch.uint8)))[0, 0])
