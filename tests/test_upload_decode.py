"""Upload decoding: a 4096² picture is shrunk while it is decoded and decoded once per content, and a
decompression bomb is refused with the size its header declares, never "0×0"."""
import ctypes
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import core.images as images
from big_pictures import SIDE, noisy_picture
from core.errors import LabError
from core.i18n import load_catalog, translate
from core.images import MAX_SIDE, load_picture
from test_images import huge_header_png

CLEAR_REFS = Path("/proc/self/clear_refs")


@pytest.fixture(scope="module")
def big() -> dict[str, bytes]:
    return {fmt: noisy_picture(fmt, seed=1) for fmt in ("JPEG", "PNG")}


@pytest.fixture
def empty_cache():
    images._decoded.clear()
    yield
    images._decoded.clear()


@pytest.mark.parametrize("width,height", [(30000, 30000), (10000, 10000), (65000, 300)])
def test_bomb_is_refused_with_its_declared_size(width, height, empty_cache):
    """Above 179M pixels PIL raises before telling the size, between 89M and 179M it warns: both must still say
    the header's own size, never 0×0."""
    with pytest.raises(LabError) as info:
        load_picture(huge_header_png(width, height), "bomb.png")
    assert info.value.code == "image.too_many_pixels"
    assert (info.value.params["width"], info.value.params["height"]) == (width, height)
    for lang in ("en", "zh"):
        text = translate(load_catalog(lang), "errors.image.too_many_pixels", **info.value.params)
        assert f"{width}×{height}" in text and "0×0" not in text


@pytest.mark.parametrize("declared", [None, (10, 10)])
def test_bomb_without_a_large_header_is_too_large_to_open(declared, monkeypatch, empty_cache):
    """No reader sizes it, or the header is small and a later frame or tile trips PIL's check: no size is quoted."""
    monkeypatch.setattr(images, "_declared_size", lambda data: declared)
    with pytest.raises(LabError) as info:
        load_picture(huge_header_png(30000, 30000), "bomb.png")
    assert info.value.code == "image.too_large_to_open"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_large_picture_is_kept_shrunk_as_thumbnail_does(big, fmt, empty_cache):
    pic = load_picture(big[fmt], "big")
    assert (pic.width, pic.height) == (SIDE, SIDE) and pic.shrunk
    assert tuple(pic.rgb.shape) == (MAX_SIDE, MAX_SIDE, 3) and tuple(pic.grey.shape) == (MAX_SIDE, MAX_SIDE)
    reference = Image.open(io.BytesIO(big[fmt]))
    reference.thumbnail((MAX_SIDE, MAX_SIDE))  # what the code panel tells students to run
    np.testing.assert_array_equal(pic.rgb.numpy(), np.asarray(reference.convert("RGB")))


def test_small_picture_is_not_shrunk(empty_cache):
    buf = io.BytesIO()
    Image.new("RGB", (MAX_SIDE, 200), (1, 2, 3)).save(buf, format="PNG")
    pic = load_picture(buf.getvalue())
    assert not pic.shrunk and tuple(pic.rgb.shape) == (200, MAX_SIDE, 3)


def _status(field: str) -> int:
    """A /proc/self/status memory figure in bytes: VmRSS (now) or VmHWM (peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field}")


def _glibc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


TRIM = _glibc_trim()
needs_proc = pytest.mark.skipif(not CLEAR_REFS.exists() or TRIM is None,
                                reason="needs Linux's /proc/self/clear_refs and glibc")


def reset_peak() -> int:
    """Hand memory freed earlier back to the OS (so it cannot hide new allocations), make the peak the current
    resident size, and return that size."""
    TRIM(0)
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        pytest.skip("clear_refs is not writable here")
    return _status("VmRSS")


@needs_proc
@pytest.mark.parametrize("fmt,limit_mb", [("JPEG", 40), ("PNG", 150)])
def test_decoding_a_large_picture_costs_little_memory(big, fmt, limit_mb, empty_cache):
    """Before: a 250 MB peak for either. JPEG now decodes at 1/4 scale; a PNG must be decoded whole, but only as
    8-bit pixels (48 MB), never as floats (192 MB)."""
    start = reset_peak()
    load_picture(big[fmt], "big")
    peak = _status("VmHWM") - start
    assert peak < limit_mb * 2**20, f"{fmt}: the peak rose by {peak / 2**20:.0f} MB"


def test_each_content_is_decoded_once(big, monkeypatch, empty_cache):
    calls = []
    real = images._decode
    monkeypatch.setattr(images, "_decode", lambda *a: calls.append(1) or real(*a))
    first = load_picture(big["JPEG"], "a.jpg")
    again = load_picture(big["JPEG"], "b.jpg")  # a rerun, or another student with the same file
    assert len(calls) == 1
    assert again.rgb is first.rgb and (first.name, again.name) == ("a.jpg", "b.jpg")
    bad = big["JPEG"][: len(big["JPEG"]) // 3]  # a truncated upload: its error is remembered too
    for _ in range(3):
        with pytest.raises(LabError) as info:
            load_picture(bad)
        assert info.value.code == "image.truncated"
    assert len(calls) == 2
    kept = list(images._decoded.values())[-1]
    assert kept.__traceback__ is None and kept.__cause__ is None  # its frames would hold the file's bytes


def test_the_cache_is_bounded(empty_cache):
    for value in range(images.CACHE_SIZE + 5):
        buf = io.BytesIO()
        Image.new("L", (4, 4), value).save(buf, format="PNG")
        load_picture(buf.getvalue())
    assert len(images._decoded) == images.CACHE_SIZE
