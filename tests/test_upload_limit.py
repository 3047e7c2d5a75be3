"""One upload limit: .streamlit/config.toml's server.maxUploadSize, the file uploaders' own limit (what the browser
enforces) and the app's byte check are the same number of the same megabytes.

Streamlit 1.67's browser turns the limit in MB into bytes with 1,000 per kB on Linux and macOS (1,024 only on
Windows), while its server counts 2^20 bytes per MB; the app checks MAX_UPLOAD_MB x 10^6 bytes, the size a student's
browser accepts and the "5 MB" it shows.
"""
import tomllib
from pathlib import Path

import pytest

from big_pictures import png_of_exact_size
from conftest import assert_no_exception, run_app, translated, wait_for_app
from core.errors import LabError
from core.images import MAX_BYTES, MAX_UPLOAD_MB, load_picture

ROOT = Path(__file__).resolve().parents[1]


def test_config_and_app_check_share_the_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    assert MAX_BYTES == MAX_UPLOAD_MB * 1_000_000


def test_exactly_the_limit_is_accepted_and_one_byte_more_is_not():
    assert load_picture(png_of_exact_size(MAX_BYTES), "limit.png").width == 64
    with pytest.raises(LabError) as info:
        load_picture(png_of_exact_size(MAX_BYTES + 1), "over.png")
    assert info.value.code == "image.file_too_big" and info.value.params == {"mb": MAX_UPLOAD_MB}
    for lang in ("en", "zh"):
        assert f"{MAX_UPLOAD_MB} MB" in translated(lang, "errors.image.file_too_big", **info.value.params)


@pytest.mark.parametrize("page,params,key", [("app_pages/image_tensor.py", {}, "it_upload"),
                                             ("app_pages/conv.py", {"conv_src": "upload"}, "conv_upload")])
def test_every_uploader_tells_the_browser_the_same_limit(page, params, key):
    at = run_app("en", page=page, params=params)
    assert not at.exception
    assert at.file_uploader(key=key).proto.max_upload_size_mb == MAX_UPLOAD_MB


def test_browser_takes_exactly_the_limit_and_refuses_one_byte_more(server, page):
    """The real browser, not our reading of Streamlit's bundle: a file of MAX_BYTES reaches the app and is decoded,
    one byte more is stopped by the browser before it is sent."""
    page.goto(f"{server.url}/image_tensor?lang=en")
    wait_for_app(page)
    upload = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    upload.set_input_files({"name": "limit.png", "mimeType": "image/png", "buffer": png_of_exact_size(MAX_BYTES)})
    page.wait_for_function("() => document.body.innerText.includes('File: limit.png')", timeout=60_000)
    wait_for_app(page)
    assert "larger than" not in page.inner_text("[data-testid='stMain']")
    upload.set_input_files({"name": "over.png", "mimeType": "image/png", "buffer": png_of_exact_size(MAX_BYTES + 1)})
    page.wait_for_function("() => document.body.innerText.includes('or smaller')", timeout=60_000)
    text = page.inner_text("[data-testid='stMain']")
    assert f"File must be {MAX_UPLOAD_MB}.0MB or smaller." in text
    assert "File: over.png" not in text
    assert_no_exception(page)
