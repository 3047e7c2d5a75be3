"""Code panel of the convolution page: plain PyTorch that reproduces the numbers on screen (literal() is shared
with the pooling page's panel)."""
from __future__ import annotations

import torch

from core.conv import INK, PAPER
from core.data import MEAN, STD
from lab.snippets.training import EMBEDDED, MNIST


def literal(x: torch.Tensor) -> str:
    """A tensor as a Python list literal: integers stay integers, floats keep full precision."""
    if not x.is_floating_point() or bool((x == x.round()).all()):
        return repr(x.long().tolist()).replace("], [", "],\n    [")
    return repr(x.tolist()).replace("], [", "],\n    [")


def image_code(source: str, image: torch.Tensor, picture: torch.Tensor | None, digit: int | None, norm: bool,
               data_source: str) -> str:
    """Lines that build `image` exactly as the page did: (H, W) or (C, H, W) float."""
    scale = f"(image.float() / 255 - {MEAN!r}) / {STD!r}  # ToTensor, then Normalize" if norm \
        else "image.float() / 255  # what ToTensor does"
    if source in ("digit", "colour"):
        code = (MNIST if data_source == "mnist" else EMBEDDED) + f"image = test_images[{digit}]  # (28, 28) uint8\n"
        if source == "colour":
            code += (f"ink, paper = torch.tensor({list(INK)}).view(3, 1, 1), torch.tensor({list(PAPER)}).view(3, 1, 1)\n"
                     "image = (paper + (ink - paper) * image.float() / 255).round().to(torch.uint8)  # (3, 28, 28)\n")
        return code + f"image = {scale}\n"
    if picture is not None:
        return f"image = torch.tensor({literal(picture)}, dtype=torch.uint8)\nimage = {scale}\n"
    return f"image = torch.tensor({literal(image)}, dtype=torch.float32)\n"


def conv_script(image_lines: str, kernel: torch.Tensor, bias: float, stride: int, padding: int, dilation: int,
                row: int, col: int, pad_value: float = 0.0) -> str:
    """F.conv2d and nn.Conv2d on the page's input and kernel, one cell by hand; result = the output map.

    A pad_value other than 0 (nn.Conv2d pads with zeros only): F.pad with that value, then no padding in the conv."""
    k = kernel if kernel.dim() == 3 else kernel[None]  # (C, kh, kw)
    c, kh, kw = k.shape
    if pad_value:
        return _padded_script(image_lines, k, bias, stride, padding, dilation, row, col, pad_value)
    return f'''import torch
import torch.nn as nn
import torch.nn.functional as F

{image_lines}kernel = torch.tensor({literal(k)}, dtype=torch.float32)  # (C, kh, kw)
x = image.reshape(1, {c}, *image.shape[-2:])   # (N, C, H, W): one picture with {c} channel(s)
weight = kernel.reshape(1, {c}, {kh}, {kw})     # (out_channels, in_channels, kh, kw)
out = F.conv2d(x, weight, bias=torch.tensor([{float(bias)!r}]), stride={stride}, padding={padding}, dilation={dilation})
print(out.shape)                           # (1, 1, H_out, W_out)

# the same with a layer, as LeNet has them
conv = nn.Conv2d({c}, 1, kernel_size=({kh}, {kw}), stride={stride}, padding={padding}, dilation={dilation})
with torch.no_grad():
    conv.weight.copy_(weight)
    conv.bias.fill_({float(bias)!r})
    assert torch.allclose(conv(x), out, atol=1e-5)

# output cell ({row}, {col}) by hand: the window under the kernel, multiplied element-wise and summed
padded = F.pad(x[0], ({padding}, {padding}, {padding}, {padding}))   # zero border
top, left = {row} * {stride}, {col} * {stride}
window = padded[:, top:top + {dilation * (kh - 1) + 1}:{dilation}, left:left + {dilation * (kw - 1) + 1}:{dilation}]  # (C, kh, kw)
print((window * kernel).sum() + {float(bias)!r}, out[0, 0, {row}, {col}])

result = out[0, 0]
'''


def _padded_script(image_lines: str, k: torch.Tensor, bias: float, stride: int, padding: int, dilation: int,
                   row: int, col: int, pad_value: float) -> str:
    """conv_script for a border of pad_value: F.pad first, then a convolution without padding."""
    c, kh, kw = k.shape
    return f'''import torch
import torch.nn as nn
import torch.nn.functional as F

{image_lines}kernel = torch.tensor({literal(k)}, dtype=torch.float32)  # (C, kh, kw)
x = image.reshape(1, {c}, *image.shape[-2:])   # (N, C, H, W): one picture with {c} channel(s)
weight = kernel.reshape(1, {c}, {kh}, {kw})     # (out_channels, in_channels, kh, kw)
padded = F.pad(x, ({padding}, {padding}, {padding}, {padding}), value={float(pad_value)!r})  # a border of {float(pad_value)!r}, not zeros
out = F.conv2d(padded, weight, bias=torch.tensor([{float(bias)!r}]), stride={stride}, dilation={dilation})
print(out.shape)                           # (1, 1, H_out, W_out)

# nn.Conv2d pads with zeros only: give it the padded picture and padding=0
# (for an MNIST digit, whose edge pixels are all background, padding_mode="replicate" gives the same)
conv = nn.Conv2d({c}, 1, kernel_size=({kh}, {kw}), stride={stride}, padding=0, dilation={dilation})
with torch.no_grad():
    conv.weight.copy_(weight)
    conv.bias.fill_({float(bias)!r})
    assert torch.allclose(conv(padded), out, atol=1e-5)

# output cell ({row}, {col}) by hand: the window under the kernel, multiplied element-wise and summed
top, left = {row} * {stride}, {col} * {stride}
window = padded[0, :, top:top + {dilation * (kh - 1) + 1}:{dilation}, left:left + {dilation * (kw - 1) + 1}:{dilation}]  # (C, kh, kw)
print((window * kernel).sum() + {float(bias)!r}, out[0, 0, {row}, {col}])

result = out[0, 0]
'''
