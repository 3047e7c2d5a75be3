"""The Dataset page's batch shapes, test-batch-size table and gradient-noise counts in AppTest, both languages:
the numbers shown are core's."""
import re

import pytest

from conftest import page_text, run_app
from core.data import load_digits
from core.loading import DigitDataset, batch_shapes, gradient_noise

PAGE = "app_pages/dataset.py"
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shapes_test_table_and_noise_counts(lang, digits):
    at = run_app(lang, page=PAGE, params={"ds_n": 1000, "ds_bs": 300}, timeout=300)
    assert not at.exception, at.exception
    text = page_text(at)
    assert bool(HAN.search(text)) == (lang == "zh")
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
