"""The image-to-tensor page in AppTest, both languages: it runs, and moving a control changes the shown numbers to
core's (the digit's grid and statistics, the picture's pixel both ways, the augmented copies)."""
import json

import numpy as np
import pytest
import torch

from charts import figures, values
from conftest import code_panel_in, run_app, shown_in
from core.data import load_digits
from core.image_tensor import digit_stages, norm_params, stats

PAGE = "app_pages/image_tensor.py"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(lang):
    at = run_app(lang, page=PAGE)
    shown_in(at, lang)
    code_panel_in(at, lang)


def test_image_digit_grid_and_stats_follow_the_controls(digits):
    at = run_app("en", page=PAGE, params={"it_digit": 9, "it_norm": "dataset", "it_stage": "normalized"})
    assert not at.exception
    mean, std = norm_params("dataset", digits.train_images)
    stages = digit_stages(digits.test_images[9], mean, std)
    grid = values(figures(at)[0]["data"][0]["z"])
    torch.testing.assert_close(torch.from_numpy(grid.astype(np.float64)), stages.normalized[0].double())
    table = at.dataframe[0].value
    s = stats(stages.normalized)
    assert list(table["min"])[2] == f"{s.minimum:.3f}" and list(table["Mean"])[2] == f"{s.mean:.3f}"
    assert f"mean = {mean:.4f}" in at.caption[0].value
    at.slider(key="it_digit").set_value(4).run()
    grid = values(figures(at)[0]["data"][0]["z"])
    np.testing.assert_allclose(grid[14], digit_stages(digits.test_images[4], mean, std).normalized[0, 14].numpy(), atol=1e-6)


def test_image_layout_pixel_and_bad_upload():
    at = run_app("en", page=PAGE, params={"it_row": 20, "it_col": 40})  # the blue bar of the test card
    code = next(c.value for c in at.code if "np.array(picture).shape" in c.value)
    assert "(36, 48, 3)" in code and "(3, 36, 48)" in code and "array[20, 40, :]  = [0, 0, 255]" in code
    assert "tensor[:, 20, 40] = [0.0, 0.0, 1.0]" in code


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_augmented_copies_are_cores(lang):
    from core.augment import augment

    at = run_app(lang, PAGE, params={"it_digit": 4, "it_aug_deg": 30, "it_aug_seed": 5})
    assert not at.exception
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    fig = next(f for f in figs if len(f["data"]) == 9 and all(d["type"] == "heatmap" for d in f["data"]))
    aug = augment(load_digits().test_images[4], 8, 30.0, 0.1, 0.1, 5)
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles[1:] == [f"{a:+.1f}° ({dx:+d}, {dy:+d}) ×{z:.2f}" for a, (dx, dy), z in zip(aug.angles, aug.shifts, aug.scales)]
    assert any("RandomAffine(degrees=30" in c.value for c in at.code)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_zoomed_window_shows_the_digits_own_values_with_their_indices(lang, digits):
    """Issue 15: the 28x28 grid is unreadable projected; a window of it is shown large, with the picture's row and
    column numbers on named axes, and framed in the whole digit."""
    at = run_app(lang, page=PAGE, params={"it_digit": 3, "it_stage": "raw", "it_win": 7, "it_win_r": 12,
                                          "it_win_c": 25})  # 25 + 7 sticks out: moved to column 21
    assert not at.exception, at.exception
    whole, close = figures(at)[:2]
    raw = digits.test_images[3]
    np.testing.assert_array_equal(values(close["data"][0]["z"]), raw[12:19, 21:28].numpy())
    assert (close["data"][0]["x0"], close["data"][0]["y0"]) == (21, 12)
    assert close["data"][0]["texttemplate"] == "%{z:.0f}" and close["data"][0]["textfont"]["size"] >= 14
    assert close["layout"]["xaxis"]["title"]["text"] and close["layout"]["yaxis"]["title"]["text"]
    rect = whole["layout"]["shapes"][0]
    assert (rect["x0"], rect["x1"], rect["y0"], rect["y1"]) == (20.5, 27.5, 11.5, 18.5)
    assert "texttemplate" not in whole["data"][0]  # the whole digit: a picture, no unreadable numbers


def test_histograms_name_both_axes():
    at = run_app("en", page=PAGE)
    hist = next(f for f in figures(at) if sum(d["type"] == "bar" for d in f["data"]) == 3)
    layout = hist["layout"]
    assert [layout[k]["title"]["text"] for k in ("xaxis", "xaxis2", "xaxis3")] == [
        "stored value (0–255)", "value after ToTensor", "value after Normalize"]
    assert layout["yaxis"]["title"]["text"] == "pixels (log scale)" and layout["yaxis"]["type"] == "log"
