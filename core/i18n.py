"""Translation catalogs: one TOML file per language under assets/, looked up by dotted key."""
from __future__ import annotations

import string
import tomllib
from pathlib import Path
from typing import Mapping

ASSETS = Path(__file__).resolve().parents[1] / "assets"
LANGUAGES: tuple[str, ...] = ("en", "zh")  # English first: it is the fallback catalog
DEFAULT_LANGUAGE = "en"

Catalog = Mapping[str, str]


def _flatten(tree: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    """Turn nested TOML tables into {"section.key": text}."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def load_catalog(lang: str, assets: Path = ASSETS) -> dict[str, str]:
    """Read assets/<lang>.toml into a flat key -> text dict."""
    with open(assets / f"{lang}.toml", "rb") as fh:
        return _flatten(tomllib.load(fh))


def placeholders(text: str) -> set[str]:
    """The {names} a text expects, e.g. {"n", "acc"}."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def translate(catalog: Catalog, key: str, fallback: Catalog | None = None, **fmt: object) -> str:
    """Look key up in catalog, then in fallback, then show the key itself; fill {placeholders}."""
    text = catalog.get(key)
    if text is None and fallback is not None:
        text = fallback.get(key)
    if text is None:
        return key
    if not fmt:
        return text
    try:
        return text.format(**fmt)
    except (KeyError, IndexError, ValueError):
        return text


def normalize_language(code: str | None) -> str:
    """Map 'zh', 'zh-CN', 'zh_Hans', 'en-US'... to a supported language code."""
    if not code:
        return DEFAULT_LANGUAGE
    code = code.strip().lower().replace("_", "-")
    for lang in LANGUAGES:
        if code == lang or code.startswith(lang + "-"):
            return lang
    return DEFAULT_LANGUAGE
