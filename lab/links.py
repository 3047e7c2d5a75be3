"""What a link may ask for: every control bound to the URL, read from the pages' own source, and the judge of a value.

A link is typed by anyone, so every value in it is checked before a widget sees it. Streamlit's own URL binding
raises on some values (OverflowError for `inf` in a whole-number box) and drops others without a word. The
controls are found where they are written: every call with `bind="query-params"` in app_pages/ and lab/, with its
key (an f-string key becomes a pattern), its label's translation key, its kind (whole number, number, on/off,
text) and whatever limits are written as literals or module constants. A page needs no change to be covered; a
control whose limits are only known at run time (the number of test digits, the size of a map) is judged by kind
here and compared with what the widget took after the page ran (lab.ui).

No Streamlit here: lab.ui screens the URL and says what was replaced, in the user's language.
"""
from __future__ import annotations

import ast
import functools
import importlib
import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.errors import LabError

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("app_pages/*.py", "lab/*.py", "lab/views/*.py")  # where bound widgets are written
ARGS = {"slider": ("label", "min_value", "max_value", "value", "step"),  # Streamlit's positional order
        "number_input": ("label", "min_value", "max_value", "value", "step"),
        "toggle": ("label", "value"), "checkbox": ("label", "value"),
        "text_input": ("label", "value", "max_chars"), "text_area": ("label", "value", "height", "max_chars")}
KINDS = {"toggle": "bool", "checkbox": "bool", "text_input": "text", "text_area": "text"}
HELPERS = {"url_choice": 3, "url_option": 2, "url_multiselect": 2, "url_grid": 1}  # lab.ui's own URL widgets (judging
# their own keys) and where their key sits among the positional arguments
HELPER_LABELS = {"url_choice": 1, "url_option": 0, "url_multiselect": 0, "url_grid": 0}  # and their label: t("...") or,
# for url_option, the catalog key itself
MAX_CHARS = {"int": 24, "float": 40, "text": 500}  # longer than any value the control can take
HUGE = 2.0 ** 53  # past this a float no longer holds every whole number; no control here goes near it


@dataclass(frozen=True)
class Param:
    """One control bound to the URL, as its call is written."""

    key: str  # the exact key, or a regular expression when the key is an f-string (tr_r{i + 1}_lr -> tr_r.+?_lr)
    pattern: bool
    widget: str  # slider, number_input, toggle, ...
    kind: str  # int | float | bool | text
    low: float | None = None  # None: not known before the page runs
    high: float | None = None
    default: object = None
    label: str | None = None  # translation key of the label (or None: the key itself is shown)
    where: str = ""  # file:line, for a reader

    def matches(self, key: str) -> bool:
        return re.fullmatch(self.key, key) is not None if self.pattern else key == self.key


@dataclass(frozen=True)
class Reason:
    """Why a value was refused: a catalog key and its placeholders (lab.ui translates it)."""

    key: str
    fmt: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """ok: the control takes the value (`value` is its tidy form when it differs, e.g. '2.0' -> '2')."""

    ok: bool
    value: str | None = None
    reason: Reason | None = None


# ---- the checks a kind cannot express: a value whose validity a core function decides ----------------------------

def _logits(raw: str) -> None:
    from core.losses import parse_logits

    parse_logits(raw)


def _optimizer_setting(match: re.Match, value: float) -> None:
    from core.optim_paths import resolve_hyperparams

    groups = match.groupdict()
    resolve_hyperparams(groups.get("opt") or "sgd", **{groups["hp"]: value})  # lr is checked alike for every optimizer


TEXT_CHECKS: dict[str, Callable[[str], None]] = {"sm_logits": _logits}
NUMBER_CHECKS: dict[str, Callable[[re.Match, float], None]] = {
    r"opt_(?P<hp>lr)\d": _optimizer_setting,
    r"opt_(?P<hp>[a-z_]+\d?)\d_(?P<opt>[a-z]+)": _optimizer_setting,  # opt_beta12_adam: beta1 of racer 2
}


# ---- reading the sources -------------------------------------------------------------------------------------------

# Sessions are threads, and ast.parse in several threads at once trips CPython 3.11's "AST constructor recursion depth
# mismatch" (seen: six pages opened together on a fresh server): the sources are read once, under this lock.
_READING = threading.Lock()


def bound_params(root: Path = ROOT) -> tuple[Param, ...]:
    """Every control bound to the URL in the app's sources (read once per process)."""
    with _READING:
        return _bound_params(root)


def helper_keys(root: Path = ROOT) -> tuple[tuple[str, bool, str], ...]:
    """(key or pattern, is a pattern, file:line) of lab.ui's own URL widgets (url_choice, ...): no bound pattern may
    claim them."""
    with _READING:
        return _helper_keys(root)


@functools.lru_cache(maxsize=1)
def _bound_params(root: Path) -> tuple[Param, ...]:
    found: dict[str, Param] = {}
    for path in _sources(root):
        for param in _params_in(path, root):
            old = found.get(param.key)
            found[param.key] = param if old is None else _merge(old, param)
    return tuple(found.values())


def helper_labels(root: Path = ROOT) -> dict[str, str]:
    """Key -> label's translation key of lab.ui's own URL widgets whose call names both literally (for a page's
    settings: "Activation (tr_act)" rather than "tr_act")."""
    with _READING:
        return {key: label for key, pattern, _, label in _helper_calls(root) if not pattern and label is not None}


@functools.lru_cache(maxsize=1)
def _helper_keys(root: Path) -> tuple[tuple[str, bool, str], ...]:
    return tuple((key, pattern, where) for key, pattern, where, _ in _helper_calls(root))


@functools.lru_cache(maxsize=1)
def _helper_calls(root: Path) -> tuple[tuple[str, bool, str, str | None], ...]:
    """(key or pattern, is a pattern, file:line, label's translation key or None) of every call of lab.ui's own URL
    widgets in the sources (one walk for helper_keys and helper_labels)."""
    calls = []
    for path in _sources(root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "func", None)
            name = getattr(name, "id", None) or getattr(name, "attr", None)
            if isinstance(node, ast.Call) and name in HELPERS:
                at = HELPERS[name]
                key, pattern = _key(next((k.value for k in node.keywords if k.arg == "key"),
                                         node.args[at] if len(node.args) > at else None))
                arg = node.args[HELPER_LABELS[name]] if len(node.args) > HELPER_LABELS[name] else None
                label = arg.value if name == "url_option" and isinstance(arg, ast.Constant) else _label(arg)
                if key is not None:
                    calls.append((key, pattern, f"{path.relative_to(root)}:{node.lineno}",
                                  label if isinstance(label, str) else None))
    return tuple(calls)


def page_controls(name: str, root: Path = ROOT) -> tuple[tuple[str, bool, str | None], ...]:
    """(key or pattern, is a pattern, label's translation key or None) of every URL-bound control written in
    app_pages/<name>.py or lab/views/<name>.py, in the order they are written: a page's settings."""
    files = (f"app_pages/{name}.py", f"lab/views/{name}.py")
    found = [(p.where, p.key, p.pattern, p.label) for p in bound_params(root)]
    labels = helper_labels(root)
    found += [(where, key, pattern, labels.get(key)) for key, pattern, where in helper_keys(root)]
    place = lambda where: (files.index(where.rsplit(":", 1)[0]), int(where.rsplit(":", 1)[1]))  # noqa: E731
    mine = sorted((place(where), key, pattern, label) for where, key, pattern, label in found
                  if where.rsplit(":", 1)[0] in files)
    seen: set[str] = set()
    return tuple((key, pattern, label) for _, key, pattern, label in mine if not (key in seen or seen.add(key)))


def lookup(key: str, params: tuple[Param, ...] | None = None) -> Param | None:
    """The control bound to ?key= (an exact key first, then a pattern); None for keys of lab.ui's own widgets."""
    params = bound_params() if params is None else params
    exact = next((p for p in params if not p.pattern and p.key == key), None)
    if exact is not None:
        return exact
    if any(re.fullmatch(k, key) if pattern else k == key for k, pattern, _ in helper_keys()):
        return None
    return next((p for p in params if p.pattern and p.matches(key)), None)


def _sources(root: Path) -> list[Path]:
    return [path for pattern in SOURCES for path in sorted(root.glob(pattern))]


def _merge(a: Param, b: Param) -> Param:
    """Two calls with one key (a page drawing it in two branches): keep only what they agree on."""
    same = lambda x, y: x if x == y else None  # noqa: E731
    kind = a.kind if a.kind == b.kind else ("float" if {a.kind, b.kind} == {"int", "float"} else "text")
    return Param(a.key, a.pattern, a.widget, kind, same(a.low, b.low), same(a.high, b.high), same(a.default, b.default),
                 same(a.label, b.label), a.where)


def _params_in(path: Path, root: Path) -> list[Param]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    env = _constants(tree)
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ARGS):
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if not (isinstance(kw.get("bind"), ast.Constant) and kw["bind"].value == "query-params"):
            continue
        key, pattern = _key(kw.get("key"))
        if key is None:
            continue  # a key only known at run time (ui.position): that helper judges its own values
        args = dict(zip(ARGS[node.func.attr], node.args)) | kw
        values = {name: _value(args.get(name), env) for name in ("min_value", "max_value", "value", "step")}
        widget = node.func.attr
        kind = KINDS.get(widget) or _number_kind(values.values())
        out.append(Param(key, pattern, widget, kind, _number(values["min_value"]), _number(values["max_value"]),
                         values["value"], _label(args.get("label")), f"{path.relative_to(root)}:{node.lineno}"))
    return out


def _key(node: ast.AST | None) -> tuple[str | None, bool]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, False
    if isinstance(node, ast.JoinedStr):
        parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+?" for v in node.values]
        if any(isinstance(v, ast.Constant) and v.value for v in node.values):
            return "".join(parts), True
    return None, False


def _label(node: ast.AST | None) -> str | None:
    """t("conv.padding") -> "conv.padding"; anything else (a plain or computed text) -> None."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "t" and isinstance(node.args[0].value, str):
            return node.args[0].value
    return None


def _constants(tree: ast.Module) -> dict[str, object]:
    """Module-level names a limit may use: NAME = <literal expression>, and numbers imported from core."""
    env: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core."):
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if isinstance(value, (int, float, tuple)) and not isinstance(value, bool):
                    env[alias.asname or alias.name] = value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = _value(node.value, env)
            if value is not None:
                env[node.targets[0].id] = value
    return env


_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b}


def _value(node: ast.AST | None, env: dict[str, object]) -> object:
    """The value of a small expression of literals and known names; None for anything else."""
    try:
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return env.get(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = _value(node.operand, env)
            return None if not _is_number(v) else (-v if isinstance(node.op, ast.USub) else v)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            a, b = _value(node.left, env), _value(node.right, env)
            return _OPS[type(node.op)](a, b) if _is_number(a) and _is_number(b) else None
        if isinstance(node, ast.Tuple):
            items = [_value(e, env) for e in node.elts]
            return tuple(items) if all(i is not None for i in items) else None
        if isinstance(node, ast.Subscript):
            seq, index = _value(node.value, env), _value(node.slice, env)
            return seq[index] if isinstance(seq, tuple) and isinstance(index, int) else None
    except (ArithmeticError, IndexError):
        return None
    return None


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _number(v: object) -> float | None:
    return v if _is_number(v) else None


def _number_kind(values) -> str:
    """int when every limit written is a whole number (Streamlit's rule too), float when any is a float."""
    numbers = [v for v in values if _is_number(v)]
    return "float" if not numbers or any(isinstance(v, float) for v in numbers) else "int"


# ---- judging a value -----------------------------------------------------------------------------------------------

def judge(param: Param, raw: str, key: str | None = None) -> Verdict:
    """Can this control take `raw` from a link? A refusal says why (a Reason for lab.ui to translate)."""
    key = key or param.key
    if param.kind == "bool":
        return Verdict(True) if raw.lower() in ("true", "false") else Verdict(False, reason=Reason("links.take_bool"))
    if param.kind == "text":
        if len(raw) > MAX_CHARS["text"]:
            return Verdict(False, reason=Reason("links.too_long", {"n": len(raw)}))
        check = TEXT_CHECKS.get(key)
        try:
            if check is not None:
                check(raw)
        except LabError as exc:
            return Verdict(False, reason=Reason(f"errors.{exc.code}", dict(exc.params)))
        return Verdict(True)
    if len(raw) > MAX_CHARS[param.kind]:  # no number this control takes is written that long
        return Verdict(False, reason=_allowed(param.kind == "int", param.low, param.high))
    return judge_number(raw, param.kind == "int", param.low, param.high, key)


def judge_number(raw: str, whole: bool, low: float | None, high: float | None, key: str = "") -> Verdict:
    """A number from a link: finite, whole when the control counts, inside its limits, and what core accepts."""
    allowed = _allowed(whole, low, high)
    try:
        value = float(raw)
    except ValueError:
        return Verdict(False, reason=allowed)
    if not math.isfinite(value) or abs(value) > HUGE or (whole and value != int(value)):
        return Verdict(False, reason=allowed)
    if (low is not None and value < low) or (high is not None and value > high):
        return Verdict(False, reason=allowed)
    for pattern, check in NUMBER_CHECKS.items():
        match = re.fullmatch(pattern, key)
        if match:
            try:
                check(match, value)
            except LabError as exc:
                return Verdict(False, reason=Reason(f"errors.{exc.code}", dict(exc.params)))
    tidy = str(int(value)) if whole else None
    return Verdict(True, tidy if tidy is not None and tidy != raw else None)


def _allowed(whole: bool, low: float | None, high: float | None) -> Reason:
    kind = "int" if whole else "float"
    if low is not None and high is not None:
        return Reason(f"links.take_{kind}_range", {"low": _g(low), "high": _g(high)})
    if low is not None:
        return Reason(f"links.take_{kind}_min", {"low": _g(low)})
    if high is not None:
        return Reason(f"links.take_{kind}_max", {"high": _g(high)})
    return Reason(f"links.take_{kind}")


def _g(v: float) -> str:
    return f"{v:g}"


def same_value(raw: str, value: object) -> bool:
    """Did a control take the link's text as it is (after the page ran)? 'TRUE' is True, '0.10' is 0.1."""
    if isinstance(value, bool):
        return raw.lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return float(raw) == float(value)
        except ValueError:
            return False
    if isinstance(value, (list, tuple)):
        return raw == ",".join(str(v) for v in value)
    return raw == str(value)
