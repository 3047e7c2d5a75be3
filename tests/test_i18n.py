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
