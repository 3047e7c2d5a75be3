"""The home page in AppTest, both languages: it runs, its shapes and parameter count come from a forward pass, the
pipeline shows every channel of every layer of the network it names (untrained, or the best finished run), and a
clicked channel opens the page that explains it on that digit and channel."""
import re

import numpy as np
import pytest
import torch

import support
from charts import figures, values
from conftest import page_text, run_app
from core.data import load_digits, to_model_input
from core.training import TrainConfig
from lab import cache
from lab.views import home as view

HAN = re.compile(r"[\u4e00-\u9fff]")
CFG = TrainConfig(train_size=300, epochs=1, seed=23)  # a tiny finished run for the "trained" case

pytestmark = pytest.mark.usefixtures("fresh_manager")  # a job manager (and checkpoint folder) of our own


def pipeline(at) -> dict:
    """The pipeline figure: the one with the clickable channel markers."""
    return next(f for f in figures(at) if any(d.get("name") == "click" for d in f["data"]))


def query(at) -> dict[str, str]:
    """The page's query string after a run (AppTest keeps a value as a string or a one-element list)."""
    return {k: v if isinstance(v, str) else v[0] for k, v in at.query_params.items()}


def maps(fig: dict, layer: str) -> list[np.ndarray]:
    """The drawn channels of a layer, in order."""
    return [values(d["z"]) for d in fig["data"] if d.get("name", "").startswith(f"{layer}[")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_runs(lang):
    at = run_app(lang)
    assert not at.exception
    text = page_text(at)
    assert at.title[0].value.startswith("LeNet Lab")
    assert ("61,706" in at.metric[0].value)
    assert bool(HAN.search(text)) == (lang == "zh")


def test_home_shapes_come_from_forward_pass():
    at = run_app("en")
    assert "[1, 1, 28, 28] → [1, 6, 28, 28] → [1, 6, 14, 14] → [1, 16, 10, 10] → [1, 16, 5, 5] → [1, 400]" in at.code[0].value


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_untrained_pipeline_shows_every_channel_and_says_so(lang):
    at = run_app(lang, params={"digit": 7})
    assert not at.exception
    assert any(("随机初始权重" if lang == "zh" else "random starting weights") in c.value
                                for c in at.caption)
    fig = pipeline(at)
    model = cache.untrained_lenet()
    with torch.no_grad():
        outs = model.forward_all(to_model_input(load_digits().test_images[7:8]))
    counts = {name: len(maps(fig, name)) for name in ("input", "conv1", "act1", "pool1", "conv2", "act2", "pool2")}
    assert counts == {"input": 1, "conv1": 6, "act1": 6, "pool1": 6, "conv2": 16, "act2": 16, "pool2": 16}
    np.testing.assert_allclose(maps(fig, "conv1")[3], outs["conv1"][0, 3].numpy(), atol=1e-6)
    np.testing.assert_allclose(maps(fig, "pool2")[15], outs["pool2"][0, 15].numpy(), atol=1e-6)
    strips = {d["name"]: values(d["z"])[:, 0] for d in fig["data"] if d.get("name") in ("act3", "act4")}
    np.testing.assert_allclose(strips["act3"], outs["act3"][0].numpy(), atol=1e-6)
    bars = next(d for d in fig["data"] if d["type"] == "bar")
    np.testing.assert_allclose([c[1] for c in bars["customdata"]], outs["fc3"][0].numpy(), atol=1e-4)
    titles = [a["text"] for a in fig["layout"]["annotations"] if a["text"].startswith("<b>")]
    assert len(titles) == len(view.COLUMNS) and "6×28×28" in titles[1] and "16×5×5" in titles[6]


def test_a_click_on_an_untrained_channel_opens_the_convolution_page_with_its_kernel():
    at = run_app("en", params={"digit": 5})
    at.session_state["home_go"] = ("conv1", 4)
    at.run()
    assert not at.exception, at.exception
    q = query(at)
    assert q["conv_kernel"] == "grid" and q["conv_digit"] == "5" and q["conv_pad"] == "2" and q["conv_norm"] == "true"
    conv1 = cache.untrained_lenet().conv1
    grid = np.array([[float(v) for v in row.split(",")] for row in q["conv_kgrid"].split(";")])
    np.testing.assert_allclose(grid, conv1.weight[4, 0].detach().numpy(), atol=5e-5)
    assert float(q["conv_bias"]) == pytest.approx(float(conv1.bias[4].detach()), abs=5e-5)
    assert any(t.value.startswith("Convolution") for t in at.title)  # (its numbers: the browser test, which reads the URL)


def test_deep_links_of_every_layer():
    shown = view.Shown("relu · adam lr=0.001", "relu", True, 2, [[[0.0] * 5] * 5] * 6, [0.0] * 6)
    logits = [0.5, -1.25, 3.0] + [0.0] * 7
    assert view.deep_link("conv1", 0, 9, shown, logits, 2) == ("convolution", {
        "conv_src": "digit", "conv_digit": "9", "conv_norm": "true", "conv_pad": "2", "conv_kernel": "lenet",
        "conv_model": "relu · adam lr=0.001", "conv_filter": "1"})
    assert view.deep_link("act1", 5, 9, shown, logits, 2)[1] == {"act_model": "relu · adam lr=0.001", "act_digit": "9",
                                                                "act_fmap": "relu", "act_channel": "6"}
    assert view.deep_link("fc3", -1, 9, shown, logits, 2) == ("softmax", {"sm_logits": "0.5, -1.25, 3, 0, 0, 0, 0, 0, 0, 0",
                                                                          "sm_target": "2"})
    assert view.deep_link("input", 0, 9, shown, logits, 2) == ("image_tensor", {"it_digit": "9"})
    assert view.deep_link("pool2", 3, 9, shown, logits, 2)[0] == "pooling"
    assert view.deep_link("act3", -1, 9, shown, logits, 2)[0] == "model_building"


def test_layout_titles_never_share_space():
    """Every column at least MIN_COLUMN units wide, side by side with a gap, for the classic and the widest models."""
    for c1, c2 in ((6, 16), (64, 128), (2, 4)):
        shapes = {"input": (1, 28, 28), "conv1": (c1, 28, 28), "act1": (c1, 28, 28), "pool1": (c1, 14, 14),
                  "conv2": (c2, 10, 10), "act2": (c2, 10, 10), "pool2": (c2, 5, 5), "act3": (120,), "act4": (84,),
                  "fc3": (10,)}
        placed = view.layout(shapes)
        for a, b in zip(placed, placed[1:]):
            assert a.left + a.width + view.GAP <= b.left + 1e-9 and a.width >= view.MIN_COLUMN
        for col in placed:  # every map inside its column and inside the drawing's height
            for x, y, side in col.cells:
                assert col.left - 1e-9 <= x and x + side <= col.left + col.width + 1e-9
                assert -1e-9 <= y and y + side <= view.HEIGHT + 1e-9


# last: from here on the module's job manager has a finished run, and the page shows it
@pytest.mark.slow  # a model trained in the app's worker processes
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_trained_pipeline_names_the_best_run(lang):
    mgr = cache.manager()
    mgr.submit(CFG)
    done = support.wait_done(mgr, CFG, 90)
    assert done.usable
    at = run_app(lang, params={"digit": 3})
    assert not at.exception, at.exception
    caption = " ".join(c.value for c in at.caption)
    # the run named as the other pages list it, in the page's language (not the language-neutral run_label)
    named = {"en": ("300 training digits", "1 epoch"), "zh": ("300 个训练数字", "1 轮")}[lang]
    assert all(part in caption for part in named) and CFG.run_label not in caption and "1 epochs" not in caption, caption
    with torch.no_grad():
        outs = done.done.model.forward_all(to_model_input(load_digits().test_images[3:4]))
    np.testing.assert_allclose(maps(pipeline(at), "conv1")[5], outs["conv1"][0, 5].numpy(), atol=1e-5)
    # a click on conv1's channel 2 opens the convolution page on this digit with this run's learned kernel
    at.session_state["home_go"] = ("conv1", 2)
    at.run()
    assert not at.exception, at.exception
    q = query(at)
    assert q["conv_kernel"] == "lenet" and q["conv_model"] == CFG.run_label
    assert q["conv_filter"] == "3" and q["conv_digit"] == "3"
    assert any(t.value.startswith(("Convolution", "卷积")) for t in at.title)
