"""Turning uploaded pictures and canvas drawings into tensors, safely: bad files raise LabError, never crash."""
from __future__ import annotations

import io
import re
import struct
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import LabError

MAX_UPLOAD_MB = 5  # the one upload limit: .streamlit/config.toml's server.maxUploadSize says the same (a test checks)
MAX_BYTES = MAX_UPLOAD_MB * 1_000_000  # Streamlit 1.67's browser counts an MB as 10^6 bytes (2^20 only on Windows)
MAX_PIXELS = 4096 * 4096  # checked from the header, before any pixel is decoded
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # no exotic decoders
DIGIT_BOX = 20  # MNIST digits fit a 20x20 box centred by mass in 28x28


@dataclass(frozen=True, eq=False)
class Picture:
    """A decoded picture, upright, in 8-bit RGB and grey."""

    rgb: torch.Tensor  # (H, W, 3) uint8, channels last as PIL / NumPy keep them
    grey: torch.Tensor  # (H, W) uint8
    mode: str  # the file's own PIL mode: "RGBA", "P", "I;16", "CMYK"...
    format: str  # "PNG", "JPEG"...
    width: int
    height: int
    frames: int  # > 1 for an animation; only the first frame is used
    name: str  # a safe display name (base name only)


def safe_name(name: str, limit: int = 80) -> str:
    """A file name fit to show as plain text: no folders, no control characters, bounded length."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    return base[:limit]


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and float images scaled to 0-255 (PIL's convert would clip them)."""
    arr = np.asarray(img).astype(np.float64)
    top = 65535.0 if arr.max(initial=0) > 255 else 255.0
    return Image.fromarray(np.clip(arr / top * 255.0, 0, 255).round().astype(np.uint8), mode="L")


def _flatten_alpha(img: Image.Image) -> Image.Image:
    """Transparent pixels composited over white, as a viewer shows them."""
    rgba = img.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """The (width, height) a file's header declares, read the way Image.open identifies it but without PIL's own
    decompression-bomb check (which raises before telling the size); None if no allowed format reads it."""
    Image.init()
    for fmt in FORMATS:
        factory, accept = Image.OPEN[fmt]
        ok = not accept or accept(data[:16])
        if ok and not isinstance(ok, str):
            try:
                return factory(io.BytesIO(data), "").size
            except (SyntaxError, IndexError, TypeError, ValueError, OSError, struct.error):
                continue
    return None


def load_picture(data: bytes, name: str = "", max_pixels: int = MAX_PIXELS) -> Picture:
    """Decode an uploaded file; LabError("image.<why>") for empty, non-image, truncated or oversized files."""
    if not data:
        raise LabError("image.empty")
    if len(data) > MAX_BYTES:
        raise LabError("image.file_too_big", mb=MAX_UPLOAD_MB)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = img.size  # from the header only
            if width * height > max_pixels:
                raise LabError("image.too_many_pixels", width=width, height=height, limit=f"{max_pixels:,}")
            mode, fmt, frames = img.mode, img.format or "?", getattr(img, "n_frames", 1)
            img.seek(0)
            img.load()
            img = ImageOps.exif_transpose(img)
    except LabError:
        raise
    except UnidentifiedImageError as exc:
        raise LabError("image.not_image") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # PIL's check, above 89M pixels
        size = _declared_size(data)
        if size is None or size[0] * size[1] <= max_pixels:  # not the header: a later frame or tile is the bomb
            raise LabError("image.too_large_to_open", limit=f"{max_pixels:,}") from exc
        raise LabError("image.too_many_pixels", width=size[0], height=size[1], limit=f"{max_pixels:,}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise LabError("image.truncated") from exc
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        img = _to_8bit(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = _flatten_alpha(img)
    rgb = img.convert("RGB")
    grey = rgb.convert("L")  # ITU-R 601-2 luma
    return Picture(torch.from_numpy(np.array(rgb)), torch.from_numpy(np.array(grey)), mode, fmt,
                   rgb.width, rgb.height, frames, safe_name(name))


def to_chw(rgb: torch.Tensor) -> torch.Tensor:
    """What ToTensor does: (H, W, C) uint8 -> (C, H, W) float in [0, 1]."""
    return rgb.permute(2, 0, 1).float() / 255.0


def to_digit(grey: torch.Tensor) -> torch.Tensor:
    """Any grey picture -> a 28x28 uint8 MNIST-style digit: light ink on black, cropped, scaled to 20 px, centred by mass."""
    x = grey.float() / 255.0  # (H, W)
    border = torch.cat([x[0], x[-1], x[:, 0], x[:, -1]])
    if border.mean() > 0.5:  # dark ink on light paper: MNIST is the other way round
        x = 1.0 - x
    x = (x - x.min()).clamp(min=0)
    if x.max() < 0.1:
        raise LabError("image.blank")
    ink = x > 0.2 * x.max()
    rows, cols = torch.nonzero(ink.any(1)).flatten(), torch.nonzero(ink.any(0)).flatten()
    crop = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = DIGIT_BOX / max(crop.shape)
    h, w = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    small = F.interpolate(crop[None, None], size=(h, w), mode="bilinear", antialias=True, align_corners=False)[0, 0]
    small = small / small.max()
    canvas = torch.zeros(28, 28)
    total = small.sum()
    cy = float((small.sum(1) * torch.arange(h)).sum() / total)
    cx = float((small.sum(0) * torch.arange(w)).sum() / total)
    top = min(max(round(14 - cy - 0.5), 0), 28 - h)
    left = min(max(round(14 - cx - 0.5), 0), 28 - w)
    canvas[top : top + h, left : left + w] = small
    return (canvas * 255).round().clamp(0, 255).to(torch.uint8)


def canvas_to_digit(rgba: np.ndarray) -> torch.Tensor:
    """A drawing canvas's RGBA pixels (light strokes) -> 28x28 uint8 digit; LabError("image.empty_canvas") if blank."""
    arr = np.asarray(rgba, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise LabError("image.empty_canvas")
    alpha = arr[..., 3] / 255.0 if arr.shape[2] == 4 else 1.0
    grey = arr[..., :3].mean(axis=2) * alpha  # transparent background counts as black
    if grey.max() < 10:
        raise LabError("image.empty_canvas")
    return to_digit(torch.from_numpy(grey.round().astype(np.uint8)))
