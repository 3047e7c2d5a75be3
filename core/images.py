"""Turning uploaded pictures and canvas drawings into tensors, safely: bad files raise LabError, never crash.

Large legal pictures cost little: each upload is decoded once (cached by a hash of its bytes), shrunk while it is
decoded (JPEG's DCT scaling, then PIL's reduce) and only the small 8-bit result is kept; no full-size float copy is
ever made."""
from __future__ import annotations

import copy
import hashlib
import io
import re
import struct
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import LabError

MAX_UPLOAD_MB = 5  # the one upload limit: .streamlit/config.toml's server.maxUploadSize says the same (a test checks)
MAX_BYTES = MAX_UPLOAD_MB * 1_000_000  # Streamlit 1.67's browser counts an MB as 10^6 bytes (2^20 only on Windows)
MAX_PIXELS = 4096 * 4096  # checked from the header, before any pixel is decoded
MAX_SIDE = 256  # pictures are kept at most this many pixels a side: 192 KB in RGB, where 4096² is 48 MB
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # no exotic decoders
DIGIT_BOX = 20  # MNIST digits fit a 20x20 box centred by mass in 28x28
CACHE_SIZE = 64  # decoded uploads kept (256 KB each at most): a class's pictures, hit on every rerun
DECODERS = threading.BoundedSemaphore(2)  # full-size decodes at once (one per core): bounds the transient memory


@dataclass(frozen=True, eq=False)
class Picture:
    """A decoded picture, upright, in 8-bit RGB and grey, shrunk to fit max_side. Shared by every session that
    uploads the same bytes: never modify its tensors in place."""

    rgb: torch.Tensor  # (h, w, 3) uint8, channels last as PIL / NumPy keep them; h, w <= max_side
    grey: torch.Tensor  # (h, w) uint8
    mode: str  # the file's own PIL mode: "RGBA", "P", "I;16", "CMYK"...
    format: str  # "PNG", "JPEG"...
    width: int  # the file's own size, upright (rgb is smaller when the picture was shrunk)
    height: int
    frames: int  # > 1 for an animation; only the first frame is used
    name: str  # a safe display name (base name only)

    @property
    def shrunk(self) -> bool:
        """True when rgb is smaller than the file's own picture."""
        return tuple(self.rgb.shape[:2]) != (self.height, self.width)


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


def _resizable(img: Image.Image) -> Image.Image:
    """Modes that PIL cannot shrink properly turned into ones it can: palettes and 1-bit would be shrunk by
    nearest neighbour (or not at all), 16-bit ones are refused by resize."""
    if img.mode == "P":
        return img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode == "PA":
        return img.convert("RGBA")
    if img.mode == "1":
        return img.convert("L")
    if img.mode.startswith("I;16"):
        return img.convert("I")
    return img


def _decode(data: bytes, max_pixels: int, max_side: int) -> Picture:
    """Header check, then a decode shrunk to max_side: for JPEG the decoder itself scales by 1/2, 1/4 or 1/8."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = img.size  # from the header only
            if width * height > max_pixels:
                raise LabError("image.too_many_pixels", width=width, height=height, limit=f"{max_pixels:,}")
            mode, fmt, frames = img.mode, img.format or "?", getattr(img, "n_frames", 1)
            img.seek(0)
            with DECODERS:
                img = _resizable(img)
                img.thumbnail((max_side, max_side))  # JPEG: DCT-scaled decode (draft); then reduce() and bicubic
                img.load()  # a picture small enough was not decoded by thumbnail()
            before = img.size
            img = ImageOps.exif_transpose(img)
            if img.size != before:  # turned by 90 degrees: so is the file's own size
                width, height = height, width
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
    if img.mode in ("I", "F"):
        img = _to_8bit(img)
    if img.mode in ("RGBA", "LA"):
        img = _flatten_alpha(img)
    rgb = img.convert("RGB")
    grey = rgb.convert("L")  # ITU-R 601-2 luma
    return Picture(torch.from_numpy(np.array(rgb)), torch.from_numpy(np.array(grey)), mode, fmt,
                   width, height, frames, "")


_decoded: OrderedDict[tuple[bytes, int, int], Picture | LabError] = OrderedDict()
_decoded_lock = threading.Lock()


def load_picture(data: bytes, name: str = "", max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE) -> Picture:
    """Decode an uploaded file, shrunk to at most max_side pixels a side; LabError("image.<why>") for empty,
    non-image, truncated or oversized files. Decoded once per content: later calls (reruns) hit a small cache."""
    if not data:
        raise LabError("image.empty")
    if len(data) > MAX_BYTES:
        raise LabError("image.file_too_big", mb=MAX_UPLOAD_MB)
    key = (hashlib.sha256(data).digest(), max_pixels, max_side)
    with _decoded_lock:
        found = _decoded.get(key)
        if found is not None:
            _decoded.move_to_end(key)
    if found is None:
        try:
            found = _decode(data, max_pixels, max_side)
        except LabError as exc:
            found = copy.copy(exc)  # code and params only: its traceback's frames hold the file's bytes
        with _decoded_lock:
            _decoded[key] = found
            while len(_decoded) > CACHE_SIZE:
                _decoded.popitem(last=False)
    if isinstance(found, LabError):
        raise copy.copy(found)  # a fresh exception per caller: sessions raise it from their own threads
    return replace(found, name=safe_name(name))


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
