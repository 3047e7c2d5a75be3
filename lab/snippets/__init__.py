"""Runnable PyTorch scripts shown in each page's code panel; tests execute them.

Their comments are shown in the UI language: the builders write English comments, the [code] section of the
catalogs gives each its translation (with {placeholders} for what a builder fills in), and only the comment tokens
(and one-line docstrings, e.g. of a class shown with inspect.getsource) change, so the script that runs is the same token for token (tests/test_snippets.py runs every panel in both
languages). A comment no catalog entry matches stays as written: shapes and code such as `# (N, 10)` need no
translation, and a prose comment left in English fails the Chinese-comments test.
"""
from __future__ import annotations

import functools
import io
import re
import tokenize

from core.i18n import DEFAULT_LANGUAGE, load_catalog

SECTION = "code."


@functools.lru_cache(maxsize=None)
def _table(lang: str) -> tuple[tuple[re.Pattern, str], ...]:
    """(English comment as a pattern, its translation) for every [code] entry, longest first."""
    english, other = load_catalog(DEFAULT_LANGUAGE), load_catalog(lang)
    rows = []
    for key, text in english.items():
        if key.startswith(SECTION) and key in other:
            parts = re.split(r"\{(\w+)\}", text)  # literal, name, literal, name, ...
            pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
            rows.append((re.compile(pattern), other[key]))
    return tuple(sorted(rows, key=lambda r: -len(r[0].pattern)))


def translate_comment(text: str, lang: str) -> str | None:
    """One comment's text (without '#') in `lang`, or None when the catalogs have no entry for it."""
    for pattern, target in _table(lang):
        match = pattern.fullmatch(text)
        if match:
            return target.format(**match.groupdict())
    return None


def comments(code: str) -> list[tokenize.TokenInfo]:
    """The comment tokens of a script (none when it does not tokenize)."""
    try:
        return [tok for tok in tokenize.generate_tokens(io.StringIO(code).readline) if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def translate_comments(code: str, lang: str) -> str:
    """The script with its comments in `lang` (English: unchanged); the code itself is untouched."""
    if lang == DEFAULT_LANGUAGE:
        return code
    lines = code.split("\n")
    for tok in comments(code):
        row, col = tok.start
        text = tok.string[1:].strip()
        translated = translate_comment(text, lang)
        if translated is not None:
            lines[row - 1] = lines[row - 1][:col] + "# " + translated
    for tok in docstrings(code):  # one-line docstrings too (a class shown with inspect.getsource)
        (row, col), (_, end) = tok.start, tok.end
        translated = translate_comment(tok.string[3:-3].strip(), lang)
        if translated is not None:
            lines[row - 1] = lines[row - 1][:col] + '"""' + translated + '"""' + lines[row - 1][end:]
    return "\n".join(lines)


def docstrings(code: str) -> list[tokenize.TokenInfo]:
    """One-line triple-quoted strings standing alone on their line (docstrings), none when the code does not tokenize."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    lines = code.split("\n")
    return [tok for tok in tokens if tok.type == tokenize.STRING and tok.string.startswith('"""')
            and tok.start[0] == tok.end[0] and lines[tok.start[0] - 1].strip() == tok.string]
