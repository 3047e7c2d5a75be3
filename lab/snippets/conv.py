"""Code panels of the convolution and pooling pages: plain PyTorch that reproduces the numbers on screen."""
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
                row: int, col: int) -> str:
    """F.conv2d and nn.Conv2d on the page's input and kernel, one cell by hand; result = the output map."""
    k = kernel if kernel.dim() == 3 else kernel[None]  # (C, kh, kw)
    c, kh, kw = k.shape
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


def pool_script(x: torch.Tensor, source: str, digit: int | None, kernel_name: str | None, data_source: str,
                size: int, stride: int | None, padding: int) -> str:
    """Max and average pooling of the page's map and their gradients; result = (max, avg, max grad, avg grad)."""
    from core.conv import KERNELS

    if source == "fmap":
        build = ((MNIST if data_source == "mnist" else EMBEDDED)
                 + f"image = test_images[{digit}].float() / 255           # (28, 28) in [0, 1]\n"
                 + f"kernel = torch.tensor({literal(KERNELS[kernel_name])}, dtype=torch.float32)\n"
                 + "x = F.conv2d(image[None, None], kernel[None, None], padding=1)[0]  # (1, 28, 28): a feature map\n")
    else:
        build = f"x = torch.tensor([{literal(x)}], dtype=torch.float32)  # (1, H, W): one channel\n"
    return f'''import torch
import torch.nn.functional as F

{build}x.requires_grad_(True)
out_max, where = F.max_pool2d(x, kernel_size={size}, stride={stride}, padding={padding}, return_indices=True)
out_avg = F.avg_pool2d(x, kernel_size={size}, stride={stride}, padding={padding})  # zero padding counts in the mean
print(out_max[0], out_avg[0])
print(where[0])        # each window's winner, as an index into the flattened (unpadded) map

# backward: let the gradient arriving at every output be 1 and see where it lands
grad_max, = torch.autograd.grad(out_max.sum(), x)  # only each window's winner gets it
grad_avg, = torch.autograd.grad(out_avg.sum(), x)  # every pixel of a window gets 1 / {size * size}
result = (out_max[0], out_avg[0], grad_max[0], grad_avg[0])
'''
