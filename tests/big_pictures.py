"""Pictures for the upload tests."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


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
