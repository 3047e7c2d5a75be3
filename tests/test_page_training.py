"""The training lab in AppTest: tiny runs start from the button, finish in the background, and show their results.

run_every fragments do not fire in AppTest, so each test waits for the job itself and reruns the page.
"""
import json
import re

import pytest

import support
from conftest import page_text, run_app, translated
from core.training import TrainConfig
from lab import cache

PAGE = "app_pages/training.py"
TINY = {"tr_mode": "single", "tr_n": 100, "tr_ep": 1}
HAN = re.compile(r"[\u4e00-\u9fff]")


pytestmark = pytest.mark.usefixtures("fresh_manager")  # a job manager of our own (conftest)


def wait_done(config: TrainConfig, timeout: float = 60):
    """The app's run of `config` once it has finished."""
    return support.wait_done(cache.manager(), config, timeout)


def figure(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_and_compares_tanh_relu_by_default(lang):
    at = run_app(lang, page=PAGE)
    assert not at.exception
    text = page_text(at)
    assert bool(HAN.search(text)) == (lang == "zh")
    assert len(at.get("progress")) == 2  # the default comparison: tanh vs ReLU, named by what differs
    names = [m.value for m in at.markdown if "■" in m.value]
    assert "**tanh**" in names[0] and "**ReLU**" in names[1]
    shared = translated(lang, "training.summary_shared", n=2,
                        settings=translated(lang, "training.opt_adam") + " " + translated(lang, "training.label_lr",
                                                                                          value="0.001"))
    assert any(c.value.startswith(shared) for c in at.caption)


@pytest.mark.slow  # trains in the app's worker processes
def test_tiny_run_trains_in_the_background_and_shows_results():
    at = run_app("en", page=PAGE, params=TINY)
    at.button(key="tr_start").click().run()
    assert not at.exception
    config = TrainConfig(train_size=100, epochs=1)
    view = wait_done(config)
    assert view.status == "done" and view.saved
    at.run()
    text = page_text(at)
    acc = f"{view.epochs[-1].test_acc:.1%}"
    assert f"Done: test accuracy {acc}" in at.get("progress")[0].proto.text
    table = at.dataframe[0].value
    assert list(table["Test accuracy"]) == [acc] and list(table["Epochs run"]) == [1]
    traces = {tr["name"]: tr for tr in figure(at)["data"]}  # one run: named by its activation, optimizer and lr
    assert traces["ReLU · Adam lr=0.001 · test"]["y"][-1] == pytest.approx(view.epochs[-1].test_acc)
    assert traces["ReLU · Adam lr=0.001 · every batch"]["y"] == pytest.approx(list(view.losses))
    assert "Reading the curves" in text


@pytest.mark.slow  # trains in the app's worker processes
def test_moving_widgets_never_restarts_or_duplicates_a_run():
    params = {**TINY, "tr_n": 2000, "tr_ep": 4, "tr_seed": 11}
    config = TrainConfig(train_size=2000, epochs=4, seed=11)
    at = run_app("en", page=PAGE, params=params)
    at.button(key="tr_start").click().run()
    job = cache.manager().get(config)
    count = len(cache.manager().jobs)
    at.toggle(key="tr_batches").set_value(False).run()
    at.slider(key="tr_ep").set_value(5).run()  # another configuration: shown as not started
    assert "Not trained yet" in at.get("progress")[0].proto.text
    at.slider(key="tr_ep").set_value(4).run()  # back: the same run, still going or done
    assert not at.exception
    assert cache.manager().get(config) is job and len(cache.manager().jobs) == count and job.requests == 1
    view = wait_done(config)
    assert view.status == "done" and len(view.epochs) == 4 and view.done.reason == "finished"


@pytest.mark.slow  # trains in the app's worker processes
def test_second_start_shares_the_run():
    params = {**TINY, "tr_seed": 12}
    config = TrainConfig(train_size=100, epochs=1, seed=12)
    first = run_app("en", page=PAGE, params=params)
    first.button(key="tr_start").click().run()
    second = run_app("en", page=PAGE, params=params)  # another student, same settings
    second.button(key="tr_start").click().run()
    assert wait_done(config).requests == 2
    second.run()
    assert "Start was pressed 2 times" in page_text(second)


@pytest.mark.slow  # trains in the app's worker processes
def test_stop_button_cancels():
    params = {**TINY, "tr_n": 4000, "tr_ep": 30, "tr_seed": 13}
    config = TrainConfig(train_size=4000, epochs=30, seed=13)
    at = run_app("en", page=PAGE, params=params)
    at.button(key="tr_start").click().run()
    job = cache.manager().get(config)
    at.button(key="tr_stop").click().run()
    assert job.status == "cancelled"  # at once: Start right now would start afresh
    other = run_app("en", page=PAGE, params=params)  # a classmate watching the same run
    assert "Stopped." in other.get("progress")[0].proto.text and "Not trained yet" not in page_text(other)
    assert "Someone pressed Stop" in page_text(other) and not other.exception
    at.button(key="tr_start").click().run()  # Start after Stop: a fresh run
    again = cache.manager().get(config)
    assert again is not job and again.status in ("queued", "running")
    at.button(key="tr_stop").click().run()
    job.thread.join(30)
    again.thread.join(30)
    assert job.done is None or job.done.reason == "cancelled"


@pytest.mark.slow  # trains in the app's worker processes
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_run_out_of_view_is_listed_and_can_still_be_stopped(lang):
    """Start, then change a setting: the controls now show another run, but the first one is listed with Stop."""
    config = TrainConfig(train_size=4000, epochs=30, seed=40 + (lang == "zh"))
    at = run_app(lang, page=PAGE, params={**TINY, "tr_n": 4000, "tr_ep": 30, "tr_seed": config.seed})
    at.button(key="tr_start").click().run()
    job = cache.manager().get(config)
    at.number_input(key="tr_seed").set_value(config.seed + 10).run()  # the controls now describe an unstarted run
    assert not at.exception
    title = translated(lang, "training.server_runs", n=1)
    assert title in [e.label for e in at.expander]
    stop = [b for b in at.button if (b.key or "").startswith("tr_stop_")]
    assert [b.key for b in stop] == [f"tr_stop_{job.key}"]
    stop[0].click().run()
    assert job.status == "cancelled" and not at.exception
    assert title not in [e.label for e in at.expander]  # nothing else trains: the list is gone
    job.thread.join(30)


@pytest.mark.parametrize("lang, code, words", [("en", "train.out_of_memory", "ran out of memory"),
                                               ("zh", "train.out_of_memory", "内存不足"),
                                               ("en", "train.worker_died", "stopped in the middle"),
                                               ("zh", "train.failed", "意外问题")])
def test_a_failed_run_is_explained_in_the_students_language(lang, code, words):
    from core.errors import LabError
    from runtime.jobs import Job

    config = TrainConfig(train_size=100, epochs=1, seed=31)
    mgr = cache.manager()
    failed = Job(config=mgr.canonical(config), status="failed",
                 error="MemoryError: Traceback (most recent call last)", failure=LabError(code, "raw detail"),
                 key=mgr.key(config))
    with mgr.lock:
        mgr.jobs[failed.config] = failed
    try:
        at = run_app(lang, page=PAGE, params={**TINY, "tr_seed": 31})
        status = at.get("progress")[0].proto.text
        assert words in status and "MemoryError" not in page_text(at) + status and "Traceback" not in status
        assert not at.exception
    finally:
        with mgr.lock:
            mgr.jobs.pop(failed.config, None)


@pytest.mark.slow  # trains in the app's worker processes
def test_diverging_learning_rate_from_the_url_is_explained():
    params = {**TINY, "tr_opt": "sgd", "tr_lr": 1e6, "tr_seed": 14}
    config = TrainConfig(optimizer="sgd", lr=1e6, train_size=100, epochs=1, seed=14)
    at = run_app("en", page=PAGE, params=params)
    assert any("far above the usual 0.01 for sgd" in w.value for w in at.warning)
    at.button(key="tr_start").click().run()
    view = wait_done(config)
    assert view.done.reason == "diverged"
    at.run()
    assert any("too large for sgd" in e.value for e in at.error)
    assert "Diverged at step" in at.get("progress")[0].proto.text
    assert not at.exception


@pytest.mark.slow  # trains in the app's worker processes
def test_huge_learning_rate_that_does_not_blow_up_is_explained_too():
    params = {**TINY, "tr_opt": "sgd", "tr_lr": 100.0, "tr_act": "tanh", "tr_seed": 15}
    config = TrainConfig(activation="tanh", optimizer="sgd", lr=100.0, train_size=100, epochs=1, seed=15)
    at = run_app("en", page=PAGE, params=params)
    at.button(key="tr_start").click().run()
    view = wait_done(config)
    assert view.done.reason == "finished" and view.epochs[-1].test_acc < 0.3
    at.run()
    assert any("learned nothing useful" in w.value for w in at.warning)


def test_grid_preset_has_four_runs_and_identical_custom_runs_merge():
    at = run_app("en", page=PAGE, params={"tr_preset": "grid"})
    assert len(at.get("progress")) == 4 and not at.exception
    same = {"tr_preset": "custom", "tr_runs": 2, "tr_r2_act": "relu", "tr_r2_opt": "adam", "tr_r2_lr": 0.001}
    at = run_app("en", page=PAGE, params=same)
    assert len(at.get("progress")) == 1 and "merged" in page_text(at)


def test_code_panel_shows_the_run():
    at = run_app("en", page=PAGE, params={**TINY, "tr_opt": "sgd", "tr_lr": 0.05})
    code = at.code[0].value
    assert "optim.SGD(model.parameters(), lr=0.05, momentum=0.9" in code and "range(1)" in code


@pytest.mark.slow  # trains in the app's worker processes
def test_damaged_checkpoint_is_reported_before_start_and_replaced():
    params = {**TINY, "tr_seed": 16}
    config = TrainConfig(train_size=100, epochs=1, seed=16)
    mgr = cache.manager()
    path = mgr.store.path(mgr.key(config))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 half a zip file")
    at = run_app("en", page=PAGE, params=params)
    assert any("is damaged" in w.value and "Press Start" in w.value for w in at.warning)
    at.button(key="tr_start").click().run()
    view = wait_done(config)
    assert view.saved and view.notice is not None and view.notice.code == "checkpoint.damaged"
    assert path.read_bytes()[:2] == b"PK" and path.stat().st_size > 1000  # a real checkpoint now


@pytest.mark.slow  # trains in the app's worker processes
def test_read_only_cache_folder_warns_and_keeps_working(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with cache.use_settings(cache_dir=blocker / "cache"):
        config = TrainConfig(train_size=100, epochs=1, seed=17)
        at = run_app("en", page=PAGE, params={**TINY, "tr_seed": 17})
        at.button(key="tr_start").click().run()
        view = wait_done(config)
        assert view.status == "done" and not view.saved
        at.run()
        assert any("cannot be saved" in w.value for w in at.warning)
        assert "Done: test accuracy" in at.get("progress")[0].proto.text and not at.exception


def write_idx(path, array) -> None:
    """An MNIST IDX file (unsigned bytes) for a tiny fake MNIST folder."""
    import numpy as np

    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.tobytes())


@pytest.mark.slow  # trains in the app's worker processes
def test_full_mnist_is_offered_and_trains_when_present(tmp_path):
    from core.data import IDX_FILES, load_digits

    d = load_digits()
    write_idx(tmp_path / IDX_FILES["train_images"], d.train_images[:300].numpy())
    write_idx(tmp_path / IDX_FILES["train_labels"], d.train_labels[:300].numpy())
    write_idx(tmp_path / IDX_FILES["test_images"], d.test_images[:100].numpy())
    write_idx(tmp_path / IDX_FILES["test_labels"], d.test_labels[:100].numpy())
    with cache.use_settings(mnist_dir=str(tmp_path)):  # the same job manager: only the data differs
        at = run_app("en", page=PAGE, params={"tr_mode": "single", "tr_ep": 1, "tr_seed": 18})
        assert at.selectbox(key="tr_data").value == "mnist"  # the default when it is there
        assert at.slider(key="tr_n").max == 300
        at.button(key="tr_start").click().run()
        view = wait_done(TrainConfig(train_size=300, epochs=1, seed=18, dataset="mnist"))
        assert view.status == "done" and view.epochs[0].test_acc > 0
        at.run()
        assert "mnist" in page_text(at) and not at.exception


@pytest.mark.slow  # trains in the app's worker processes
def test_early_stopping_is_marked_on_the_curves():
    params = {"tr_mode": "single", "tr_n": 200, "tr_ep": 30, "tr_pat": 2, "tr_seed": 19}
    config = TrainConfig(train_size=200, epochs=30, patience=2, seed=19)
    at = run_app("en", page=PAGE, params=params)
    at.button(key="tr_start").click().run()
    view = wait_done(config)
    assert view.done.reason == "early_stop" and view.done.best_epoch < view.done.epochs_run < 30
    at.run()
    status = at.get("progress")[0].proto.text
    best = view.epochs[view.done.best_epoch - 1]
    assert status.startswith(f"Stopped early after epoch {view.done.epochs_run}")
    assert f"kept the weights of epoch {view.done.best_epoch}: test accuracy {best.test_acc:.1%}" in status
    fig = figure(at)
    star = next(tr for tr in fig["data"] if tr["name"] == "ReLU · Adam lr=0.001 · best")
    assert star["x"] == [view.done.best_epoch] and star["y"] == pytest.approx([best.test_loss])
    assert {s["x0"] for s in fig["layout"]["shapes"]} == {view.done.epochs_run}
    assert any(a["text"] == "early stop" for a in fig["layout"]["annotations"])
    assert list(at.dataframe[0].value["Test accuracy"]) == [f"{best.test_acc:.1%}"]  # the weights kept



# ---- issue 15: the first screen, names that say what differs, no contradicting greyed box, axes before training ----

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_greyed_boxes_show_what_the_comparison_sets(lang):
    at = run_app(lang, page=PAGE, params={"tr_act": "relu"})  # the single-run choice is ReLU: never shown as run 1's
    box = at.text_input(key="tr_fixed_activation")
    assert box.disabled and box.value == "tanh / ReLU"
    assert not [s for s in at.selectbox if s.key == "tr_act"]
    at = run_app(lang, page=PAGE, params={"tr_preset": "grid"})
    assert at.text_input(key="tr_fixed_activation").value == "tanh / ReLU"
    assert at.text_input(key="tr_fixed_optimizer").value == "SGD / Adam"
    assert at.text_input(key="tr_fixed_lr").value == "0.01 / 0.001"
    assert at.text_input(key="tr_fixed_momentum").value == "0.9 (SGD)"
    assert not at.exception


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_before_training_both_charts_have_axes_running_to_the_epochs(lang):
    at = run_app(lang, page=PAGE, params={"tr_ep": 7})
    layout, data = figure(at)["layout"], figure(at)["data"]
    assert layout["xaxis"]["range"][1] == layout["xaxis2"]["range"][1] == pytest.approx(7.3)
    assert {(tr["xaxis"], tr["yaxis"]) for tr in data} == {("x", "y"), ("x2", "y2")}  # an axis needs a trace
    assert layout["yaxis"]["range"][1] > 2.3 and layout["yaxis2"]["range"] == [0, 1.02]  # ln 10: where loss starts
    assert layout["xaxis2"]["title"]["text"] == translated(lang, "training.epoch_axis")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_layer_table_follows_every_size_before_training(lang):
    from core.lenet import LeNetConfig, layer_plan

    at = run_app(lang, page=PAGE, params={"tr_c1": 2, "tr_c2": 4, "tr_fc1": 30, "tr_k": 3, "tr_pad": 0})
    assert not at.exception
    plan = layer_plan(LeNetConfig(conv1_channels=2, conv2_channels=4, fc1_units=30, kernel_size=3, conv1_padding=0))
    table = at.table[0].value
    params, shapes = table.iloc[:, 2].tolist(), table.iloc[:, 1].tolist()
    assert params[-1] == f"{plan.params:,}" and shapes[1] == "2×26×26" and shapes[3] == "4×11×11"
    assert table.iloc[:, 3].tolist()[-1] == f"{plan.macs:,}"
    totals = translated(lang, "training.plan_totals", params=f"{plan.params:,}", macs=f"{plan.macs:,}")
    assert any(totals in m.value for m in at.markdown)
    caption = next(c.value for c in at.caption if translated(lang, "training.label_conv1_channels", value=2) in c.value)
    assert translated(lang, "training.label_kernel_size", value=3) in caption  # the runs are built with these sizes
    at.number_input(key="tr_c1").set_value(5).run()  # one more change: the table follows at once
    assert at.table[0].value.iloc[1, 1] == "5×26×26"


def test_architecture_presets_set_every_field_at_once():
    at = run_app("en", page=PAGE, params={"tr_mode": "single"})
    at.pills(key="tr_arch").set_value("tiny").run()
    assert (at.number_input(key="tr_c1").value, at.number_input(key="tr_c2").value) == (2, 4)
    assert at.pills(key="tr_arch").value is None  # ready for the next one
    at.pills(key="tr_arch").set_value("classic_1998").run()
    assert (at.selectbox(key="tr_act").value, at.selectbox(key="tr_pool").value) == ("tanh", "avg")
    assert (at.number_input(key="tr_c1").value, at.number_input(key="tr_c2").value) == (6, 16)
    assert at.table[0].value.iloc[-1, 2] == "61,706" and not at.exception


def test_a_classic_run_saved_before_the_sizes_existed_is_found_by_the_page():
    """A checkpoint written before TrainConfig had layer sizes (no size fields in it) keeps its name and loads."""
    import torch

    from core.checkpoint import Checkpoint, save_checkpoint
    from core.lenet import CLASSIC_SIZES
    from core.training import run_to_end

    mgr = cache.manager()
    config = TrainConfig(activation="tanh", epochs=1, train_size=100, seed=23)
    data = cache.embedded_digits()
    epochs, done = run_to_end(config.but(), data)
    fp = mgr.fingerprint(data)
    path = save_checkpoint(mgr.store.folder, Checkpoint(config, done.model, tuple(epochs), (2.3,), 2, "finished", 1, 1,
                                                       None, 0.2), fp)
    raw = torch.load(path, weights_only=True)
    for name in CLASSIC_SIZES:
        del raw["config"][name]  # as an older file has it
    del raw["snapshots"]
    torch.save(raw, path)
    at = run_app("en", page=PAGE, params={"tr_n": 100, "tr_ep": 1, "tr_seed": 23})
    status = at.get("progress")[0].proto.text
    assert "Done: test accuracy" in status and "loaded from disk" in status and not at.exception
    assert any(translated("en", "training.snap_empty") in c.value for c in at.caption)  # no snapshots in it: said so


@pytest.mark.slow  # trains in the app's worker processes
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_watch_it_learn_shows_each_runs_snapshots_and_replays_them(lang):
    from charts import figures, values

    params = {"tr_n": 300, "tr_ep": 2, "tr_seed": 24 + (lang == "zh")}
    configs = [TrainConfig(activation=a, train_size=300, epochs=2, seed=params["tr_seed"]) for a in ("tanh", "relu")]
    at = run_app(lang, page=PAGE, params=params)
    at.button(key="tr_start").click().run()
    views = [wait_done(c) for c in configs]
    at.run()
    assert not at.exception
    moments = [(s.epoch, s.batch) for s in views[0].snapshots]
    assert moments == [(0, 0), (1, 1), (1, 4), (1, 5), (2, 5)]  # 300 digits: 5 batches of 64
    slider = at.select_slider(key="tr_snap")
    assert slider.value == 4 and slider.options == [translated(lang, "training.snap_before"),
        translated(lang, "training.snap_batches", epoch=1, batches=1),
        translated(lang, "training.snap_batches", epoch=1, batches=4),
        translated(lang, "training.snap_epoch", epoch=1), translated(lang, "training.snap_epoch", epoch=2)]

    def bars():
        fig = next(f for f in figures(at) if any(tr["type"] == "bar" for tr in f["data"]))
        return [values(tr["y"]) for tr in fig["data"] if tr["type"] == "bar"]

    for got, view in zip(bars(), views):  # side by side: tanh, then ReLU
        assert got == pytest.approx(view.snapshots[-1].probs.float().tolist(), abs=1e-6)
    at.select_slider(key="tr_snap").set_value(0).run()  # back to before training
    for got, view in zip(bars(), views):
        assert got == pytest.approx(view.snapshots[0].probs.float().tolist(), abs=1e-6)
    assert bool(HAN.search(page_text(at))) == (lang == "zh") and not at.exception
