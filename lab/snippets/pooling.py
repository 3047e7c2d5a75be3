"""Code panel of the pooling page: max and average pooling of the page's map and where their gradients go."""
from __future__ import annotations

import torch

from core.conv import KERNELS
from lab.snippets.conv import literal
from lab.snippets.training import EMBEDDED, MNIST


def pool_script(x: torch.Tensor, source: str, digit: int | None, kernel_name: str | None, data_source: str,
                size: int, stride: int | None, padding: int) -> str:
    """Max and average pooling of the page's map and their gradients; result = (max, avg, max grad, avg grad)."""
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
