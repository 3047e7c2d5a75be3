"""Pictures for the upload tests and bench/upload_memory.py: one of an exact size, and large legal ones."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from core.images import MAX_BYTES


def png_of_exact_size(size: int, side: int = 64) -> bytes:
    """A valid PNG of exactly `size` bytes: a small picture padded with a private ancillary chunk (readers skip it)."""
    buf = io.BytesIO()
    Image.new("RGB", (side, side), (40, 90, 200)).save(buf, format="PNG")
    png = buf.getvalue()
    pad = size - len(png) - 12  # a chunk is length (4) + type (4) + body + CRC (4)
    if pad < 0:
        raise ValueError(f"{size} bytes is smaller than the picture itself ({len(png)})")
    body = b"\0" * pad
    chunk = struct.pack(">I", pad) + b"prVt" + body + struct.pack(">I", zlib.crc32(b"prVt" + body))
    end = png.rindex(b"IEND") - 4  # before the IEND chunk (its 4-byte length comes first)
    data = png[:end] + chunk + png[end:]
    assert len(data) == size
    return data


SIDE = 4096  # the largest picture the app accepts (core.images.MAX_PIXELS = 4096²)


def noisy_picture(fmt: str, seed: int, side: int = SIDE) -> bytes:
    """A large legal upload: a side x side JPEG (smooth colour noise plus grain, quality 80) or PNG (4x4 blocks of
    colour noise), seeded; at 4096² both compress poorly (4.4-4.5 MB) but stay under the upload limit."""
    rng = np.random.default_rng(seed)
    if fmt == "JPEG":
        coarse = Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8))
        pixels = np.asarray(coarse.resize((side, side), Image.Resampling.BILINEAR)).astype(np.int16)
        pixels += rng.integers(-20, 21, pixels.shape, dtype=np.int16)  # grain: JPEG cannot drop it
        pixels = np.clip(pixels, 0, 255).astype(np.uint8)
        options = {"quality": 80}
    elif fmt == "PNG":
        blocks = rng.integers(0, 256, (side // 4 + 1, side // 4 + 1, 3), dtype=np.uint8)
        pixels = np.repeat(np.repeat(blocks, 4, axis=0), 4, axis=1)[:side, :side]  # deflate finds the repeats only
        options = {}
    else:
        raise ValueError(fmt)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt, **options)
    data = buf.getvalue()
    assert len(data) <= MAX_BYTES, f"{fmt} test picture of {len(data):,} bytes is over the upload limit"
    return data
