"""AppTest of the image-to-tensor, Dataset/DataLoader, autograd and train/eval pages, in both languages: each runs,
and moving a control changes the shown numbers to core's."""
import base64
import json
import re

import numpy as np

import pytest
import torch

from conftest import page_text, run_app
from core.autograd import backward_calls
from core.data import load_digits, to_model_input
from core.dataset import epoch_plan, iterations_per_epoch, scaled_lr
from core.train_eval import repeat_forward
from core.image_tensor import digit_stages, norm_params, stats

HAN = re.compile(r"[\u4e00-\u9fff]")
IMAGE, DATASET, AUTOGRAD, MODES = ("app_pages/image_tensor.py", "app_pages/dataset.py", "app_pages/autograd.py",
                                   "app_pages/train_eval.py")


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def figures(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def values(v) -> np.ndarray:
    """A Plotly array from the figure JSON: a plain list, or {"dtype", "bdata", "shape"} (base64 typed arrays)."""
    if isinstance(v, dict) and "bdata" in v:
        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        return arr.reshape([int(d) for d in str(v["shape"]).split(",")]) if "shape" in v else arr
    return np.asarray(v, dtype=float)


@pytest.mark.parametrize("page", [IMAGE, DATASET, AUTOGRAD, MODES])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(page, lang):
    at = run_app(lang, page=page)
    assert not at.exception, at.exception
    text = page_text(at)
    assert bool(HAN.search(text)) == (lang == "zh")
    assert any(e.label == ("PyTorch 代码" if lang == "zh" else "PyTorch code") for e in at.expander)


def test_image_digit_grid_and_stats_follow_the_controls(digits):
    at = run_app("en", page=IMAGE, params={"it_digit": 9, "it_norm": "dataset", "it_stage": "normalized"})
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
    at = run_app("en", page=IMAGE, params={"it_row": 20, "it_col": 40})  # the blue bar of the test card
    code = at.code[0].value
    assert "(36, 48, 3)" in code and "(3, 36, 48)" in code and "array[20, 40, :]  = [0, 0, 255]" in code
    assert "tensor[:, 20, 40] = [0.0, 0.0, 1.0]" in code


def test_dataset_loader_numbers_come_from_a_real_loader(digits):
    at = run_app("en", page=DATASET, params={"ds_n": 1000, "ds_bs": 64, "ds_seed": 3})
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Iterations per epoch, len(loader)"] == "16" and metrics["…with drop_last=True"] == "15"
    assert metrics["Size of the last batch"] == "40"
    at.toggle(key="ds_drop").set_value(True).run()
    at.number_input(key="ds_bs").set_value(300).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Iterations per epoch, len(loader)"] == str(iterations_per_epoch(1000, 300, True)) == "3"
    assert metrics["Samples skipped each epoch"] == "100"
    strip = figures(at)[1]  # the first batch of epoch 1
    plan = epoch_plan(1000, 300, True, True, 3)
    first = [d["title"]["text"] for k, d in strip["layout"].items() if k.startswith("xaxis") and "title" in d]
    assert first == [str(int(digits.train_labels[i])) for i in plan.first_batches[0][:16]]


def test_dataset_everything_dropped_and_scaled_lr():
    at = run_app("en", page=DATASET, params={"ds_n": 50, "ds_bs": 64, "ds_drop": True, "ds_lr": 0.02,
                                             "ds_base_bs": 32, "ds_new_bs": 128})
    assert not at.exception
    assert any("every sample is dropped" in w.value for w in at.warning)
    assert f"= {scaled_lr(0.02, 32, 128):g}" in at.code[-1].value or any(
        f"= {scaled_lr(0.02, 32, 128):g}" in c.value for c in at.code)
    labels = [m.value for m in at.markdown if "■" in m.value]  # each run's colour, name and settings, over its bar
    assert len(at.get("progress")) == 3 and len(labels) == 3 and "batch 128, lr 0.08 (scaled)" in labels[2]


def test_autograd_accumulation_follows_the_controls():
    at = run_app("en", page=AUTOGRAD, params={"ag_seed": 2, "ag_calls": 3})
    assert not at.exception
    acc = backward_calls(2, 3, "retain_graph")
    bars = [tr for tr in figures(at)[1]["data"]]
    assert len(bars) == 3
    for tr, g in zip(bars, acc.grads):
        np.testing.assert_allclose(values(tr["y"]), g["b"].numpy(), rtol=1e-6)
    assert "b.grad is **3.00×**" in page_text(at)
    graph = at.get("graphviz_chart")[0].proto.spec
    assert "MmBackward0" in graph and "AccumulateGrad" in graph and "w [5, 3]" in graph
    at.radio(key="ag_pass").set_value("neither").run()
    assert not at.exception
    assert "second time" in at.code[-1].value or any("second time" in c.value for c in at.code)
    assert at.error and "refused" in at.error[0].value
    at.toggle(key="ag_xgrad").set_value(True).run()
    assert "x [5]" in at.get("graphviz_chart")[0].proto.spec


def test_train_eval_spread_matches_core(digits):
    at = run_app("en", page=MODES, params={"te_drop": 0.3, "te_reps": 4, "te_seed": 1})
    assert not at.exception
    x = to_model_input(digits.test_images[:16])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Largest change between calls, train()"] == f"{repeat_forward(x, 'train', 4, 0.3, 0.1, 1).spread:.4f}"
    assert metrics["Largest change between calls, eval()"] == "0.0000"
    assert metrics["Kept for backward under no_grad"] == "0.00 MB"
    assert float(metrics["Forward time, tracking on"].split()[0]) > 0
    at.slider(key="te_drop").set_value(0.0).run()
    assert {m.label: m.value for m in at.metric}["Largest change between calls, train()"] == "0.0000"


@pytest.mark.parametrize("page,intro", [(IMAGE, "image_tensor.intro"), (DATASET, "dataset.intro"),
                                        (AUTOGRAD, "autograd.intro"), (MODES, "train_eval.intro"),
                                        ("app_pages/pitfalls.py", "pitfalls.intro")])
def test_presenter_mode_folds_every_explanation(page, intro):
    from core.i18n import load_catalog

    text = load_catalog("en")[intro]
    plain = run_app("en", page=page)
    assert any(m.value == text for m in plain.markdown)
    at = run_app("en", page=page, params={"present": True})
    assert not at.exception
    folded = [e for e in at.expander if e.label == "Explanation"]
    assert folded and any(m.value == text for e in folded for m in e.markdown)
    outside = [m.value for m in at.main.markdown if m.value == text]  # at.main walks into expanders too
    assert len(outside) == 1  # only the copy inside the expander


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_augmented_copies_are_cores(lang):
    from core.augment import augment

    at = run_app(lang, "app_pages/image_tensor.py", params={"it_digit": 4, "it_aug_deg": 30, "it_aug_seed": 5})
    assert not at.exception
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    fig = next(f for f in figs if len(f["data"]) == 9 and all(d["type"] == "heatmap" for d in f["data"]))
    aug = augment(load_digits().test_images[4], 8, 30.0, 0.1, 0.1, 5)
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles[1:] == [f"{a:+.1f}° ({dx:+d}, {dy:+d}) ×{z:.2f}" for a, (dx, dy), z in zip(aug.angles, aug.shifts, aug.scales)]
    assert any("RandomAffine(degrees=30" in c.value for c in at.code)
