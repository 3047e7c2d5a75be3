"""The inspect page in AppTest: no model yet, then a tiny trained model's numbers as core computes them."""
import base64
import json
import re

import numpy as np
import pytest

import support
from conftest import page_text, run_app
from core.model_inspect import confusion_matrix, per_class_accuracy, predict
from core.training import TrainConfig
from lab import cache

PAGE = "app_pages/model_inspect.py"
HAN = re.compile(r"[\u4e00-\u9fff]")
CFG = TrainConfig(train_size=300, epochs=1, seed=21)


def values(v) -> list:
    """A Plotly data array, whether a plain list or Plotly's typed-array encoding."""
    if isinstance(v, dict) and "bdata" in v:
        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        return arr.reshape([int(n) for n in str(v.get("shape", len(arr))).split(",")]).tolist()
    return list(v)


pytestmark = pytest.mark.usefixtures("fresh_manager")  # a job manager of our own (conftest)


@pytest.fixture(scope="module")
def trained(fresh_manager):
    mgr = cache.manager()
    mgr.submit(CFG)
    view = support.wait_done(mgr, CFG, 60)
    assert view.usable
    return view


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_models_it_says_how_to_fill_the_page(lang):
    at = run_app(lang, page=PAGE)
    assert not at.exception
    assert len(at.info) == 1 and "scripts/pretrain.py" in at.info[0].value  # before class, or on the training page
    links = at.get("page_link")
    assert len(links) == 1 and links[0].proto.page == "training"
    assert bool(HAN.search(page_text(at))) == (lang == "zh")


@pytest.mark.slow  # a model trained in the app's worker processes
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_trained_model_numbers_match_core(trained, lang):
    at = run_app(lang, page=PAGE, params={"insp_runs": [trained.key]})
    assert not at.exception, at.exception
    data = cache.embedded_digits()
    preds = predict(trained.done.model, data.test_images, data.test_labels)
    assert at.metric[0].value == f"{preds.accuracy:.1%}"
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    cm = confusion_matrix(preds.labels, preds.predicted)
    assert values(charts[0]["data"][0]["z"]) == cm.tolist()
    per_class = values(charts[1]["data"][0]["y"])
    assert per_class == pytest.approx(per_class_accuracy(cm).tolist())
    assert bool(HAN.search(page_text(at))) == (lang == "zh")


@pytest.mark.slow  # a model trained in the app's worker processes
def test_digit_slider_moves_the_feature_maps(trained):
    at = run_app("en", page=PAGE, params={"insp_runs": [trained.key]})
    data = cache.embedded_digits()
    preds = predict(trained.done.model, data.test_images, data.test_labels)
    at.slider(key="insp_digit").set_value(5).run()
    truth, said = int(preds.labels[5]), int(preds.predicted[5])
    assert any(f"This is a {truth}; the model says {said}" in c.value for c in at.caption)
    assert not at.exception


@pytest.mark.slow  # a model trained in the app's worker processes
def test_trained_model_is_offered_by_default_and_for_other_pages(trained):
    at = run_app("en", page=PAGE)  # no link: the newest trained runs are chosen
    assert at.multiselect(key="insp_runs").value == [trained.key]
    assert CFG.run_label in cache.trained_models()


@pytest.mark.slow  # a model trained in the app's worker processes
def test_unknown_key_in_the_link_is_ignored(trained):
    at = run_app("en", page=PAGE, params={"insp_runs": ["ffffffffffffffff"]})
    assert not at.exception
    assert at.multiselect(key="insp_runs").value == []
    assert "Choose at least one run" in page_text(at)


# ---- issue 15 items 7 and 9: the best runs first, translated names, FC titles clear of tick labels -------------------

def saved_runs(folder, configs):
    """Finished runs written straight into a checkpoint folder (trained here, in this process: no worker needed)."""
    from core.checkpoint import Checkpoint, data_fingerprint, run_key, save_checkpoint
    from core.training import run_to_end

    data = cache.embedded_digits()
    fp, keys = data_fingerprint(data), []
    for config in configs:
        epochs, done = run_to_end(config, data)
        save_checkpoint(folder, Checkpoint(config, done.model, tuple(epochs), (2.3,), 5, done.reason, done.epochs_run,
                                           done.best_epoch, None, 0.1), fp)
        keys.append(run_key(config, fp))
    return keys


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    """Two correct runs and, saved last (so the newest), a short run of the pitfalls lab's mistaken loop."""
    folder = tmp_path_factory.mktemp("three")
    configs = [TrainConfig(activation="tanh", train_size=300, epochs=2, seed=3),
               TrainConfig(activation="relu", train_size=300, epochs=2, seed=3),
               TrainConfig(optimizer="sgd", lr=0.01, train_size=300, epochs=1, seed=3, mistake="optimizer_in_loop")]
    return folder, configs, saved_runs(folder, configs)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_best_finished_runs_are_offered_first_with_translated_names(three_runs, lang):
    from conftest import translated

    folder, configs, keys = three_runs
    with cache.use_settings(cache_dir=folder):
        at = run_app(lang, page=PAGE)
        assert not at.exception
        chosen = at.multiselect(key="insp_runs")
        assert sorted(chosen.value) == sorted(keys[:2]) and chosen.options[-1].startswith(  # the mistaken run last
            translated(lang, "training.act_relu") + " · " + translated(lang, "training.opt_sgd"))
        mistake = translated(lang, "training.mistake_optimizer_in_loop")
        assert mistake in chosen.options[-1] and "optimizer_in_loop" not in chosen.options[-1]
        assert "mistake=" not in page_text(at) and "lr=0.01 · epochs" not in " ".join(chosen.options)
        names = [o.split(" · ")[0] for o in at.selectbox(key="insp_focus").options]
        assert sorted(names) == sorted([translated(lang, "training.act_tanh"), translated(lang, "training.act_relu")])
        assert bool(HAN.search(page_text(at))) == (lang == "zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fully_connected_titles_clear_the_tick_labels_and_softmax_labels_every_class(three_runs, lang):
    from charts import figures

    folder, _, keys = three_runs
    with cache.use_settings(cache_dir=folder):
        at = run_app(lang, page=PAGE, params={"insp_runs": keys[:1]})
        fig = next(f for f in figures(at) if any(tr["type"] == "bar" for tr in f["data"])
                   and len(f["data"]) == 5)  # the four fully connected strips and the softmax bars
    layout = fig["layout"]
    plot = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    px = lambda y: (1 - y) * plot  # noqa: E731 - paper y to pixels below the plot area's top
    titles = sorted(px(a["y"]) for a in layout["annotations"])
    strips = [layout[f"yaxis{'' if i == 1 else i}"]["domain"] for i in range(1, 5)]
    for strip, next_title in zip(strips, titles[1:]):
        below = px(strip[0])  # the strip's lower edge; its tick labels and axis title come under it
        assert next_title - below >= 40, (next_title, below)
    bars = layout["xaxis5"]
    assert bars["tickvals"] == [str(d) for d in range(10)] and bars["type"] == "category"
    assert bars["title"]["text"] and layout["yaxis5"]["title"]["text"]


# ---- issue 17 item 3: why did it say 7? ------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_why_tab_draws_captums_maps_for_each_model_and_names_the_runner_up(three_runs, lang):
    from charts import figures, values
    from conftest import translated
    from core.attribution import explain
    from core.checkpoint import data_fingerprint, load_checkpoint
    from core.data import to_model_input

    folder, configs, keys = three_runs
    index = 7
    with cache.use_settings(cache_dir=folder):
        at = run_app(lang, page=PAGE, params={"insp_runs": keys[:2], "insp_why_digit": index,
                                              "insp_tab": translated(lang, "inspect.tab_why")})
        assert not at.exception
        fig = next(f for f in figures(at) if any(tr.get("name") == "saliency" for tr in f["data"]))
    data = cache.embedded_digits()
    x = to_model_input(data.test_images[index : index + 1])
    for run, key in enumerate(keys[:2]):
        model = load_checkpoint(folder / f"lenet-{key}.pt", data_fingerprint(data)).model
        want = explain(model, x)
        maps = {tr["name"]: values(tr["z"]) for tr in fig["data"][8 * run:8 * run + 8] if tr.get("name")}
        for field in ("saliency", "integrated", "occlusion", "towards"):
            assert np.asarray(maps[field]) == pytest.approx(getattr(want, field).numpy(), abs=1e-4), field
        row = translated(lang, "inspect.why_row", name=translated(lang, f"training.act_{configs[run].activation}"),
                         said=want.predicted, p=f"{float(want.probs[want.predicted]):.0%}", other=want.runner_up,
                         q=f"{float(want.probs[want.runner_up]):.0%}")
        assert row in [a["text"] for a in fig["layout"]["annotations"]]
    assert bool(HAN.search(page_text(at))) == (lang == "zh")


def test_the_maps_are_computed_only_when_the_tab_is_open(three_runs):
    folder, _, keys = three_runs
    with cache.use_settings(cache_dir=folder):
        cache.explanation.clear()
        at = run_app("en", page=PAGE, params={"insp_runs": keys[:1]})
        assert not at.exception
        from charts import figures
        assert not any(tr.get("name") == "saliency" for f in figures(at) for tr in f["data"])
