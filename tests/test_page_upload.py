"""A large legal upload on the image-to-tensor page (AppTest): shown shrunk, said so, the code panel reproduces the
shrunk picture, and one upload plus three slider moves stay far below the issue's 250 MB."""

import numpy as np
import pytest

import core.images as images
from big_pictures import SIDE, noisy_picture
from conftest import run_app, translated
from core.images import MAX_SIDE, load_picture
from lab.snippets.image_tensor import image_script
from test_upload_decode import _status, needs_proc, reset_peak

IMAGE = "app_pages/image_tensor.py"
pytestmark = pytest.mark.usefixtures("fresh_manager")  # the page's background runs use a manager of our own


@pytest.fixture(scope="module")
def photo() -> bytes:
    return noisy_picture("JPEG", seed=2)


def test_large_upload_is_shown_shrunk_and_said_so(photo):
    images._decoded.clear()
    at = run_app("en", page=IMAGE)
    at.file_uploader(key="it_upload").set_value(("photo.jpg", photo, "image/jpeg")).run()
    assert not at.exception and not at.error
    assert at.slider(key="it_row").max == MAX_SIDE - 1 and at.slider(key="it_col").max == MAX_SIDE - 1
    note = translated("en", "image_tensor.shrunk", width=SIDE, height=SIDE, w=MAX_SIDE, h=MAX_SIDE, side=MAX_SIDE)
    assert note in [c.value for c in at.caption]
    assert f"np.array(picture).shape  = ({MAX_SIDE}, {MAX_SIDE}, 3)" in "\n".join(c.value for c in at.code)
    assert f"picture.thumbnail(({MAX_SIDE}, {MAX_SIDE}))" in at.code[-1].value


def test_code_panel_reproduces_the_shrunk_picture(photo, tmp_path, monkeypatch):
    """The panel's script, run on the uploaded file, reads the same pixel from the same shrunk picture."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photo.jpg").write_bytes(photo)
    code = image_script("embedded", 0, "course", 25, 200, 17, "photo.jpg", MAX_SIDE)
    scope: dict = {}
    exec(compile(code, "<snippet>", "exec"), scope)
    hwc_shape, chw_shape, hwc_px, chw_px = scope["result"]["layout"]
    rgb = load_picture(photo, "photo.jpg").rgb
    assert hwc_shape == tuple(rgb.shape) and chw_shape == (3, MAX_SIDE, MAX_SIDE)
    assert hwc_px == rgb[200, 17].tolist()
    np.testing.assert_allclose(chw_px, (rgb[200, 17].float() / 255).tolist(), rtol=1e-6)


@needs_proc
def test_one_upload_and_three_slider_moves_cost_little_memory(photo):
    """Before, every rerun decoded the file again and made full-size float copies (192 MB each for 4096²): here
    the peak rose by 2.4 GB (the issue measured about 1 GB kept on a live server)."""
    images._decoded.clear()
    at = run_app("en", page=IMAGE)  # the page without an upload: its own figures and caches are warm
    start = reset_peak()
    at.file_uploader(key="it_upload").set_value(("photo.jpg", photo, "image/jpeg")).run()
    for row in (60, 120, 180):
        at.slider(key="it_row").set_value(row).run()
    assert not at.exception
    peak = _status("VmHWM") - start
    assert peak < 150 * 2**20, f"the peak rose by {peak / 2**20:.0f} MB"
