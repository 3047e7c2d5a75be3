"""Every LabError code the code can raise has a message in both catalogs, with the placeholders the raise fills.

The codes are read from the source itself (every LabError(...) call under core/, lab/ and app_pages/), so a new
error without a translation fails here, not in front of a class.
"""
import ast
import re
from pathlib import Path

import pytest

from core.errors import LabError
from core.i18n import LANGUAGES, load_catalog, placeholders, translate
from core.optim_paths import OPTIMIZERS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "core").glob("*.py"), *(ROOT / "lab").rglob("*.py"), *(ROOT / "app_pages").glob("*.py"),
                  *(ROOT / "runtime").glob("*.py"), ROOT / "app.py"])
LEFTOVER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _expand(node: ast.expr) -> list[str]:
    """The code(s) a LabError's first argument can be: a literal, or the optimizer f-strings of core.optim_paths."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        if text == "optim.bad_{}":  # optim.bad_<hyperparameter>, beta1/beta2 folded into beta
            names = {"beta" if k.startswith("beta") else k for _, _, hp in OPTIMIZERS.values() for k in hp}
            return [f"optim.bad_{n}" for n in sorted(names)]
    raise AssertionError(f"a LabError code this test cannot read: {ast.unparse(node)}")


def raised_codes() -> dict[str, set[str]]:
    """code -> the keyword names passed as its params, over every LabError(...) call in the source."""
    codes: dict[str, set[str]] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "LabError" and node.args:
                for code in _expand(node.args[0]):
                    params = {k.arg for k in node.keywords if k.arg}
                    codes[code] = codes.get(code, params) & params  # the names every raise of it passes
    return codes


CODES = raised_codes()
CATALOGS = {lang: load_catalog(lang) for lang in LANGUAGES}


def test_the_source_scan_finds_the_known_errors():
    assert len(CODES) > 80
    for code in ("image.truncated", "train.bad_lr", "checkpoint.damaged", "conv.kernel_too_large", "optim.bad_lr",
                 "optim.bad_beta", "optim.bad_eps", "checkpoint.readonly", "train.no_mnist"):
        assert code in CODES


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_message_in_both_languages(code):
    texts = {lang: CATALOGS[lang].get(f"errors.{code}", "") for lang in LANGUAGES}
    for lang, text in texts.items():
        assert text.strip(), f"errors.{code} is missing or empty in {lang}.toml"
    assert placeholders(texts["en"]) == placeholders(texts["zh"]), f"errors.{code}: en and zh ask for different values"
    missing = placeholders(texts["en"]) - CODES[code]
    assert not missing, f"errors.{code} shows {sorted(missing)}, which the code does not pass"


def _raise(fn, *args, **kwargs) -> LabError:
    with pytest.raises(LabError) as info:
        fn(*args, **kwargs)
    return info.value


def representative_errors() -> list[LabError]:
    """Real errors from real calls, one per area, with their real parameters."""
    import torch

    from core.conv import output_size
    from core.images import load_picture
    from core.losses import parse_logits
    from core.optim_paths import resolve_hyperparams
    from core.pooling import pool_output_size
    from core.training import TrainConfig

    return [
        _raise(TrainConfig, lr=float("nan")),
        _raise(TrainConfig, lr=-1.0),
        _raise(TrainConfig, momentum=1.5),
        _raise(load_picture, b"", "x.png"),
        _raise(load_picture, b"no picture at all" * 4, "x.png"),
        _raise(resolve_hyperparams, "adam", beta1=2.0),
        _raise(resolve_hyperparams, "rmsprop", eps=0.0),
        _raise(parse_logits, "1, two, 3"),
        _raise(output_size, 5, 5, 7),
        _raise(pool_output_size, 4, 4, 2, 0, 0),
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_real_errors_render_without_leftover_placeholders(lang):
    for exc in representative_errors():
        text = translate(CATALOGS[lang], f"errors.{exc.code}", CATALOGS["en"], **exc.params)
        assert text != f"errors.{exc.code}", f"{exc.code} has no message"
        assert not LEFTOVER.search(text), f"{exc.code} in {lang} still shows a placeholder: {text}"
        if lang == "zh":
            assert re.search(r"[\u4e00-\u9fff]", text), f"{exc.code} is not translated: {text}"
