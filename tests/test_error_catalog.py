"""Every error a user can be shown is in core.errors.CODES, with a message in both catalogs that shows the same
values in both languages; LabError refuses anything else, so a page never shows a bare key.

The registry is read, not the source: a code may be a variable (a training process sends its code back as text).
One guard still reads the source, for raises no test reaches: each literal LabError code there is registered and
passes the values its message shows.
"""
import ast
import pickle
import re
from pathlib import Path

import pytest

from core.errors import CODES, LabError
from core.i18n import LANGUAGES, load_catalog, placeholders, translate
from core.optim_paths import OPTIMIZERS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "core").glob("*.py"), *(ROOT / "runtime").glob("*.py"), *(ROOT / "lab").rglob("*.py"),
                  *(ROOT / "app_pages").glob("*.py"), ROOT / "app.py"])
LEFTOVER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
CATALOGS = {lang: load_catalog(lang) for lang in LANGUAGES}


def test_the_registry_holds_the_known_errors():
    assert len(CODES) > 80
    for code in ("image.truncated", "train.bad_lr", "checkpoint.damaged", "conv.kernel_too_large", "optim.bad_lr",
                 "optim.bad_beta", "optim.bad_eps", "checkpoint.readonly", "train.no_mnist"):
        assert code in CODES
    hyperparameters = {"beta" if k.startswith("beta") else k for _, _, hp in OPTIMIZERS.values() for k in hp}
    assert {f"optim.bad_{n}" for n in hyperparameters} <= CODES.keys()  # the codes core.optim_paths builds


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_message_in_both_languages(code):
    texts = {lang: CATALOGS[lang].get(f"errors.{code}", "") for lang in LANGUAGES}
    for lang, text in texts.items():
        assert text.strip(), f"errors.{code} is missing or empty in {lang}.toml"
    assert placeholders(texts["en"]) == placeholders(texts["zh"]), f"errors.{code}: en and zh ask for different values"
    assert placeholders(texts["en"]) == CODES[code], f"errors.{code} shows other values than core.errors registers"


def test_the_catalogs_have_no_error_the_registry_lacks():
    for lang in LANGUAGES:
        extra = {k.removeprefix("errors.") for k in CATALOGS[lang] if k.startswith("errors.")} - CODES.keys()
        assert not extra, f"{lang}.toml has errors no code raises: {sorted(extra)}"


def test_lab_error_refuses_unknown_codes_and_missing_values():
    with pytest.raises(LookupError, match="unknown error code"):
        LabError("train.no_such_thing")
    with pytest.raises(LookupError, match="lr"):
        LabError("train.bad_lr")
    code = "train." + "bad_lr"  # a code built at run time is checked the same way
    err = LabError(code, "detail", lr=-1.0)
    assert (err.code, err.params, str(err)) == ("train.bad_lr", {"lr": -1.0}, "detail")
    back = pickle.loads(pickle.dumps(err))
    assert (back.code, back.params, str(back)) == (err.code, err.params, str(err))


def test_every_literal_code_in_the_source_is_registered_with_its_values():
    """For raises no test reaches. Codes built at run time (f-strings, variables) are checked when raised."""
    problems = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "LabError" and node.args):
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if first.value not in CODES:
                problems.append(f"{where}: {first.value} is not in core.errors.CODES")
            elif not any(k.arg is None for k in node.keywords):  # a **mapping is checked when raised
                missing = CODES[first.value] - {k.arg for k in node.keywords}
                if missing:
                    problems.append(f"{where}: {first.value} needs {sorted(missing)}")
    assert problems == []


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
