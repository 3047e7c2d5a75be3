"""Code panel of the image-to-tensor page: torchvision's ToTensor and Normalize on the digit the page shows."""
from __future__ import annotations

from lab.snippets.training import EMBEDDED, MNIST

SAMPLE = '''# The test card the page shows when nothing is uploaded: a grey ramp with red, green and blue bars
h, w = 36, 48
ramp = torch.linspace(0, 255, w).round().to(torch.uint8)
rgb = ramp.view(1, w, 1).expand(h, w, 3).clone()
for c in range(3):
    rgb[h // 4:3 * h // 4, c * (w // 3):(c + 1) * (w // 3)] = 0
    rgb[h // 4:3 * h // 4, c * (w // 3):(c + 1) * (w // 3), c] = 255
picture = Image.fromarray(rgb.numpy())
'''


def image_script(data_source: str, index: int, norm: str, bins: int, row: int, col: int,
                 upload_name: str | None = None, shrunk_to: int | None = None) -> str:
    """A test digit through ToTensor and Normalize, histograms of each stage, then one colour picture's layouts;
    result = {"mean_std", "stats", "hist", "layout"} as on screen."""
    stats_line = ('pixels = train_images.double() / 255  # every training pixel, after ToTensor\n'
                  'mean, std = pixels.mean().item(), pixels.std(unbiased=False).item()  # the z-score choice'
                  if norm == "dataset" else "mean, std = 0.5, 0.5  # the course: [0, 1] -> [-1, 1]")
    picture = (f"picture = Image.open({upload_name!r}).convert(\"RGB\")  # your picture\n" if upload_name else SAMPLE)
    if upload_name and shrunk_to:  # the page shrinks a large picture while decoding it, the way thumbnail() does
        picture = (f"picture = Image.open({upload_name!r})  # your picture\n"
                   f"picture.thumbnail(({shrunk_to}, {shrunk_to}))  # shrunk as the page does, at most {shrunk_to} a side\n"
                   f"picture = picture.convert(\"RGB\")\n")
    return f'''import numpy as np
import torch
from PIL import Image
from torchvision import transforms

{MNIST if data_source == "mnist" else EMBEDDED}
raw = test_images[{index}]  # (28, 28) uint8, values 0-255
{stats_line}
x = transforms.ToTensor()(Image.fromarray(raw.numpy()))  # (1, 28, 28) float32 in [0, 1]
normalized = transforms.Normalize((mean,), (std,))(x)  # (x - mean) / std
stages = {{"raw": (raw.float(), 0, 255), "ToTensor": (x, 0, 1), "Normalize": (normalized, -mean / std, (1 - mean) / std)}}
stats, hist = [], []
for name, (t, lo, hi) in stages.items():
    t = t.double()
    stats.append((t.min().item(), t.max().item(), t.mean().item(), t.std(unbiased=False).item()))
    hist.append(np.histogram(t.numpy(), bins={bins}, range=(lo, hi))[0].tolist())
    print(name, tuple(stages[name][0].shape), "min %.3f max %.3f mean %.3f std %.3f" % stats[-1])

# [H, W, C] (PIL, NumPy) vs [C, H, W] (ToTensor, PyTorch)
{picture}hwc = np.array(picture)  # (H, W, 3) uint8
chw = transforms.ToTensor()(picture)  # (3, H, W) float in [0, 1]
print(hwc.shape, tuple(chw.shape))
print(hwc[{row}, {col}, :], chw[:, {row}, {col}])  # the same pixel: channel last vs channel first
result = {{"mean_std": (mean, std), "stats": stats, "hist": hist,
          "layout": (hwc.shape, tuple(chw.shape), hwc[{row}, {col}, :].tolist(), chw[:, {row}, {col}].tolist())}}
'''
