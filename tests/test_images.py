"""Uploads: every bad file gets a LabError code; every odd-but-valid picture is normalised correctly."""
import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from core.errors import LabError
from core.images import canvas_to_digit, load_picture, safe_name, to_chw, to_digit


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def digit_like(size=(40, 30), ink=0, paper=255) -> Image.Image:
    arr = np.full(size, paper, dtype=np.uint8)
    arr[8:32, 12:18] = ink  # a thick "1"
    return Image.fromarray(arr, mode="L")


def huge_header_png(width=10_000, height=10_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("data,code", [
    (b"", "image.empty"),
    (b"\x00garbage bytes that are no picture" * 10, "image.not_image"),
    (b"%PDF-1.4 renamed to .png", "image.not_image"),
    (huge_header_png(), "image.too_many_pixels"),
])
def test_bad_files_rejected(data, code):
    with pytest.raises(LabError) as info:
        load_picture(data, "x.png")
    assert info.value.code == code


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_rejected(fmt):
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)), fmt)
    with pytest.raises(LabError) as info:
        load_picture(data[: len(data) // 2])
    assert info.value.code == "image.truncated"


def test_huge_header_rejected_before_decoding():
    import tracemalloc

    tracemalloc.start()
    with pytest.raises(LabError):
        load_picture(huge_header_png())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5_000_000  # 10000x10000 decoded would be 100 MB


def test_modes_are_normalised():
    base = np.random.default_rng(1).integers(0, 255, (20, 24, 3), dtype=np.uint8)
    rgb = Image.fromarray(base)
    for img in (rgb.convert("RGBA"), rgb.convert("P"), rgb.convert("CMYK"), rgb.convert("L"), rgb.convert("LA")):
        fmt = "JPEG" if img.mode == "CMYK" else "PNG"
        pic = load_picture(encode(img, fmt))
        assert pic.rgb.shape == (20, 24, 3) and pic.rgb.dtype == torch.uint8
        assert pic.grey.shape == (20, 24) and pic.mode == img.mode


def test_sixteen_bit_is_scaled_not_clipped():
    arr = (np.linspace(0, 65535, 16 * 16).reshape(16, 16)).astype(np.uint16)
    pic = load_picture(encode(Image.fromarray(arr)))
    assert pic.grey.min() == 0 and pic.grey.max() == 255
    assert 100 < pic.grey.float().mean() < 155


def test_transparent_background_becomes_white():
    img = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    img.putpixel((5, 5), (0, 0, 0, 255))
    pic = load_picture(encode(img))
    assert pic.grey[0, 0] == 255 and pic.grey[5, 5] == 0


def test_exif_rotation_applied():
    img = Image.new("L", (30, 10), 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees when shown
    pic = load_picture(encode(img, "JPEG", exif=exif.tobytes()))
    assert (pic.height, pic.width) == (30, 10)


def test_animation_uses_first_frame():
    frames = [Image.new("L", (8, 8), v) for v in (0, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    pic = load_picture(buf.getvalue())
    assert pic.frames == 2 and int(pic.grey.max()) == 0


@pytest.mark.parametrize("name,shown", [("../../etc/passwd", "passwd"), ("<b>x</b>.png", "b>.png"),
                                        ("C:\\a\\b.png", "b.png"), ("ok.png", "ok.png")])
def test_safe_name(name, shown):
    assert safe_name(name) == shown


def test_to_chw_matches_torchvision():
    from torchvision.transforms.functional import to_tensor

    rgb = torch.randint(0, 256, (5, 7, 3), dtype=torch.uint8)
    torch.testing.assert_close(to_chw(rgb), to_tensor(rgb.numpy()))


def test_to_digit_inverts_crops_and_centres():
    pic = load_picture(encode(digit_like()))
    d = to_digit(pic.grey)
    assert d.shape == (28, 28) and d.dtype == torch.uint8
    assert d[0].max() == 0 and d[:, 0].max() == 0  # black border
    ys, xs = torch.nonzero(d > 50, as_tuple=True)
    assert abs(ys.float().mean() - 13.5) < 1.5 and abs(xs.float().mean() - 13.5) < 1.5
    assert ys.max() - ys.min() + 1 <= 20


def test_blank_and_empty_canvas():
    with pytest.raises(LabError) as info:
        to_digit(torch.full((28, 28), 255, dtype=torch.uint8))
    assert info.value.code == "image.blank"
    with pytest.raises(LabError) as info:
        canvas_to_digit(np.zeros((200, 200, 4), dtype=np.uint8))
    assert info.value.code == "image.empty_canvas"


def test_canvas_stroke_becomes_digit():
    rgba = np.zeros((200, 200, 4), dtype=np.uint8)
    rgba[40:160, 90:110] = (255, 255, 255, 255)
    d = canvas_to_digit(rgba)
    assert d.max() == 255 and d[0].max() == 0


def luma(r, g, b) -> int:
    """ITU-R 601-2, as PIL's convert("L") computes it."""
    return int((r * 299 + g * 587 + b * 114) / 1000 + 0.5)


def close(actual, expected, tol=1):
    return all(abs(int(a) - int(e)) <= tol for a, e in zip(actual, expected))


CMYK_SWATCHES = {  # CMYK ink -> the RGB a viewer shows (Pillow's conversion: 255 - ink - black, clipped)
    (0, 0, 0, 0): (255, 255, 255),
    (255, 0, 0, 0): (0, 255, 255),
    (0, 255, 0, 0): (255, 0, 255),
    (0, 0, 255, 0): (255, 255, 0),
    (0, 255, 255, 0): (255, 0, 0),
    (0, 0, 0, 255): (0, 0, 0),
}


def swatches(mode: str, colours, size: int = 8) -> Image.Image:
    """Flat squares side by side, one per colour (flat blocks survive JPEG almost exactly)."""
    img = Image.new(mode, (size * len(colours), size))
    for i, colour in enumerate(colours):
        img.paste(colour, (i * size, 0, (i + 1) * size, size))
    return img


@pytest.mark.parametrize("fmt,tol", [("TIFF", 0), ("JPEG", 6)])
def test_cmyk_colours_become_the_rgb_a_viewer_shows(fmt, tol):
    img = swatches("CMYK", list(CMYK_SWATCHES))
    pic = load_picture(encode(img, fmt, **({"quality": 100} if fmt == "JPEG" else {})))
    assert pic.mode == "CMYK"
    for i, rgb in enumerate(CMYK_SWATCHES.values()):
        centre = pic.rgb[4, i * 8 + 4].tolist()
        assert close(centre, rgb, tol), f"{fmt} CMYK swatch {i}: {centre} != {rgb}"
        assert close([pic.grey[4, i * 8 + 4]], [luma(*rgb)], tol)


def test_palette_colours_are_looked_up():
    colours = [(255, 0, 0), (0, 128, 0), (10, 20, 200), (250, 250, 250)]
    img = Image.new("P", (4, 1))
    img.putpalette([c for rgb in colours for c in rgb] + [0] * (768 - 12))
    img.putdata([0, 1, 2, 3])
    pic = load_picture(encode(img))
    assert pic.mode == "P"
    assert [pic.rgb[0, i].tolist() for i in range(4)] == [list(c) for c in colours]
    assert pic.grey[0].tolist() == [luma(*c) for c in colours]


def test_palette_transparency_index_becomes_white():
    img = Image.new("P", (3, 1))
    img.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * (768 - 9))
    img.putdata([0, 1, 2])
    pic = load_picture(encode(img, transparency=0))  # index 0 (black) is the transparent colour
    assert pic.mode == "P"
    assert [pic.rgb[0, i].tolist() for i in range(3)] == [[255, 255, 255], [255, 0, 0], [0, 0, 255]]


def test_palette_with_partial_alpha_is_composited_over_white():
    img = Image.new("P", (2, 1))
    img.putpalette([0, 0, 0, 0, 0, 200] + [0] * (768 - 6))
    img.putdata([0, 1])
    pic = load_picture(encode(img, transparency=bytes([128, 255])))  # tRNS: index 0 half transparent
    half = round(255 * (1 - 128 / 255))  # black at alpha 128 over white
    assert close(pic.rgb[0, 0].tolist(), [half] * 3) and pic.rgb[0, 1].tolist() == [0, 0, 200]


def test_rgba_is_composited_over_white_with_exact_values():
    pixels = [(255, 0, 0, 255), (255, 0, 0, 0), (0, 0, 0, 128), (0, 100, 200, 64)]
    img = Image.new("RGBA", (4, 1))
    img.putdata(pixels)
    pic = load_picture(encode(img))
    assert pic.mode == "RGBA"
    for i, (r, g, b, a) in enumerate(pixels):
        want = [round(c * a / 255 + 255 * (1 - a / 255)) for c in (r, g, b)]
        assert close(pic.rgb[0, i].tolist(), want), f"pixel {i}: {pic.rgb[0, i].tolist()} != {want}"
        assert close([pic.grey[0, i]], [luma(*want)])


def test_grey_with_alpha_is_composited_over_white():
    img = Image.new("LA", (3, 1))
    img.putdata([(100, 255), (100, 0), (0, 128)])
    pic = load_picture(encode(img))
    assert pic.mode == "LA"
    assert close(pic.grey[0].tolist(), [100, 255, 127]) and pic.rgb[0, 0].tolist() == [100, 100, 100]
