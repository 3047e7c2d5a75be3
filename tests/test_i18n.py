"""Both catalogs have the same keys and placeholders; translate() falls back to English."""
import pytest

from core.i18n import LANGUAGES, load_catalog, normalize_language, placeholders, translate


@pytest.fixture(scope="module")
def cats():
    return {lang: load_catalog(lang) for lang in LANGUAGES}


def test_same_keys(cats):
    assert set(cats["en"]) == set(cats["zh"])
    assert len(cats["en"]) > 20


def test_same_placeholders(cats):
    diff = {k: (placeholders(v), placeholders(cats["zh"][k])) for k, v in cats["en"].items()
            if placeholders(v) != placeholders(cats["zh"][k])}
    assert diff == {}


def test_chinese_is_translated(cats):
    """A Chinese value identical to the English one is an untranslated string (short codes excepted)."""
    same = [k for k, v in cats["en"].items() if v == cats["zh"][k] and any(c.isalpha() for c in v) and len(v) > 12]
    assert same == []


def test_no_empty_values(cats):
    assert [k for c in cats.values() for k, v in c.items() if not v.strip()] == []


def test_translate_and_fallback():
    zh, en = {"a": "你好 {name}"}, {"a": "hello {name}", "b": "only english"}
    assert translate(zh, "a", en, name="x") == "你好 x"
    assert translate(zh, "b", en) == "only english"
    assert translate(zh, "missing", en) == "missing"
    assert translate(en, "a", name=3) == "hello 3"


@pytest.mark.parametrize("code,expected", [("zh", "zh"), ("zh-CN", "zh"), ("zh_Hans", "zh"), ("en-US", "en"),
                                           ("fr", "en"), (None, "en"), ("", "en")])
def test_normalize_language(code, expected):
    assert normalize_language(code) == expected


def test_every_code_comment_entry_is_a_comment_the_panels_write(cats):
    """[code] holds the comments of the code panels and of the pages' short code blocks (lab.snippets translates
    them): each English entry is written, literally (apart from its {placeholders}), in a builder under lab/snippets/
    or in a page, so no translation outlives its comment."""
    import re
    from pathlib import Path

    root = Path(__file__).parents[1]
    sources = "".join(p.read_text() for p in [*(root / "lab" / "snippets").glob("*.py"), *(root / "app_pages").glob("*.py"),
                                              root / "core" / "model_building.py"])  # a class the page shows as source
    stale = [k for k, v in cats["en"].items() if k.startswith("code.")
             and not all(part in sources for part in re.split(r"\{\w+\}", v) if part.strip())]
    assert stale == []


def test_code_comments_translate_with_their_numbers():
    from lab.snippets import translate_comment, translate_comments

    assert translate_comment("output cell (2, 3) by hand: the window under the kernel, multiplied element-wise and "
                             "summed", "zh") == "手算输出格子 (2, 3)：卷积核下面的窗口，逐元素相乘再求和"
    assert translate_comment("(N, 10)", "zh") is None  # a shape needs no translation
    code = "x = 1  # zero border\ns = '# zero border'  # not a comment inside the string\n"
    assert translate_comments(code, "zh") == "x = 1  # 补零的边框\ns = '# zero border'  # not a comment inside the string\n"
    assert translate_comments(code, "en") == code
