"""The Dataset / DataLoader page in AppTest, both languages: it runs, and the loader's numbers, batch shapes,
test-batch-size table, gradient-noise counts and scaled learning rate shown are core's."""

import pytest

from charts import figures
from conftest import code_panel_in, run_app, shown_in
from core.dataset import DigitDataset, batch_shapes, epoch_plan, gradient_noise, iterations_per_epoch, scaled_lr

PAGE = "app_pages/dataset.py"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shapes_test_table_and_noise_counts(lang, digits):
    at = run_app(lang, page=PAGE, params={"ds_n": 1000, "ds_bs": 300}, timeout=300)
    text = shown_in(at, lang)
    s = batch_shapes(DigitDataset(digits.train_images[:1000], digits.train_labels[:1000]), 300, True, False, 0)
    code = next(c.value for c in at.code if "next(iter(loader))" in c.value)
    assert "torch.Size([300, 1, 28, 28])" in code and "torch.Size([100])" in code and s.last == ((100, 1, 28, 28), (100,))
    table = at.dataframe[0].value
    assert list(table.iloc[:, 0]) == [1, 64, 300, 1000]
    assert len(set(table.iloc[:, 3])) == 1 and len(set(table.iloc[:, 4])) == 1  # accuracy and mean loss: same
    notes = list(table.iloc[:, 5])
    assert notes[0] == notes[3] == table.iloc[0, 4] and notes[2] != table.iloc[2, 4]  # the slip when the last is short
    assert notes[2] in text and str(len(digits.test_labels)) in text
    noise = gradient_noise(digits.train_images[:2000], digits.train_labels[:2000], (8, 16, 32, 64, 128, 256, 512), 12, 0)
    assert ", ".join(f"{g.batch_size} → {len(g.deviations)}" for g in noise) in text and "256 → 7" in text


def test_sampler_and_batch_sampler_are_the_loaders_own():
    at = run_app("en", "app_pages/dataset.py", params={"ds_shuffle": False, "ds_bs": 8})
    assert not at.exception
    code = next(c.value for c in at.code if "loader.sampler" in c.value)
    assert "SequentialSampler" in code and "BatchSampler" in code and "[0, 1, 2, 3, 4, 5, 6, 7]" in code


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(lang):
    at = run_app(lang, page=PAGE)
    shown_in(at, lang)
    code_panel_in(at, lang)


def test_dataset_loader_numbers_come_from_a_real_loader(digits):
    at = run_app("en", page=PAGE, params={"ds_n": 1000, "ds_bs": 64, "ds_seed": 3})
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Iterations per epoch, len(loader)"] == "16" and metrics["…with drop_last=True"] == "15"
    assert metrics["Size of the last batch"] == "40"
    at.toggle(key="ds_drop").set_value(True).run()
    at.number_input(key="ds_bs").set_value(300).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Iterations per epoch, len(loader)"] == str(iterations_per_epoch(1000, 300, True)) == "3"
    assert metrics["Samples skipped each epoch"] == "100"
    strip = figures(at)[0]  # the first batch of epoch 1: the page's main picture
    plan = epoch_plan(1000, 300, True, True, 3)
    first = [a["text"] for a in strip["layout"]["annotations"]]
    assert first == [str(int(digits.train_labels[i])) for i in plan.first_batches[0][:16]]


def test_dataset_everything_dropped_and_scaled_lr():
    at = run_app("en", page=PAGE, params={"ds_n": 50, "ds_bs": 64, "ds_drop": True, "ds_lr": 0.02,
                                             "ds_base_bs": 32, "ds_new_bs": 128})
    assert not at.exception
    assert any("every sample is dropped" in w.value for w in at.warning)
    assert f"= {scaled_lr(0.02, 32, 128):g}" in at.code[-1].value or any(
        f"= {scaled_lr(0.02, 32, 128):g}" in c.value for c in at.code)
    labels = [m.value for m in at.markdown if "■" in m.value]  # each run's colour, name and settings, over its bar
    assert len(at.get("progress")) == 3 and len(labels) == 3 and "batch 128, lr 0.08 (scaled)" in labels[2]


def test_a_link_with_a_fresh_seed_or_huge_loader_costs_under_a_second_of_cpu():
    """Issue 16: no URL value may make the page train or measure (a new ds_seed used to train a LeNet-5 and measure
    gradient noise in the page: 2.4 s of CPU here, 6.5 s idle on the server, 44-75 s under load)."""
    import time

    run_app("en", page=PAGE)  # the page's defaults, cached as at server start
    started = time.process_time()
    at = run_app("en", page=PAGE)
    default = time.process_time() - started
    for params in ({"ds_seed": 4321}, {"ds_seed": 977, "ds_bs": 1, "ds_n": 4000, "ds_drop": True}):
        started = time.process_time()
        at = run_app("en", page=PAGE, params=params)
        spent = time.process_time() - started
        assert not at.exception, at.exception
        assert spent < default + 1.0, f"{params}: {spent:.2f} s of CPU against {default:.2f} s for the defaults"
