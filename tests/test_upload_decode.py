"""Upload decoding: a decompression bomb is refused with the size its header declares, never "0×0"."""
import pytest

import core.images as images
from core.errors import LabError
from core.i18n import load_catalog, translate
from core.images import load_picture
from test_images import huge_header_png


@pytest.mark.parametrize("width,height", [(30000, 30000), (10000, 10000), (65000, 300)])
def test_bomb_is_refused_with_its_declared_size(width, height):
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
def test_bomb_without_a_large_header_is_too_large_to_open(declared, monkeypatch):
    """No reader sizes it, or the header is small and a later frame or tile trips PIL's check: no size is quoted."""
    monkeypatch.setattr(images, "_declared_size", lambda data: declared)
    with pytest.raises(LabError) as info:
        load_picture(huge_header_png(30000, 30000), "bomb.png")
    assert info.value.code == "image.too_large_to_open"
