"""Predict, then reveal: one number to work out from seeded random settings, checked against core, with the steps."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import torch

from core.conv import conv_trace, output_size
from core.errors import LabError
from core.losses import cross_entropy_breakdown
from core.pooling import pool_trace

KINDS = ("conv_sum", "pool_value", "output_size", "cross_entropy")
EXACT = 1e-9  # integer answers (window sums of small integers, maxima, sizes): only float noise is forgiven
TWO_DECIMALS = 0.01  # fractions (averages, losses): an answer rounded to two decimals counts


@dataclass(frozen=True)
class Step:
    """One line of the worked answer: what it computes (a key for the page's text) and its numbers."""

    key: str  # e.g. "products", "sum", "plus_one"
    values: tuple[float, ...]


@dataclass(frozen=True)
class Question:
    """A question drawn from a seed: its settings, the answer core computes, a tolerance and the worked steps."""

    kind: str  # one of KINDS
    seed: int
    settings: dict[str, object] = field(hash=False)  # plain numbers and nested lists, ready to show or put in a URL
    answer: float
    tolerance: float
    steps: tuple[Step, ...]

    def check(self, guess: float) -> bool:
        """True when guess is within the tolerance of the answer (never for NaN or infinity)."""
        return math.isfinite(guess) and abs(guess - self.answer) <= self.tolerance + EXACT


def _grid(rng: random.Random, rows: int, cols: int, low: int, high: int) -> list[list[int]]:
    """A rows x cols list of integers drawn from [low, high]."""
    return [[rng.randint(low, high) for _ in range(cols)] for _ in range(rows)]


def _flat(t: torch.Tensor) -> tuple[float, ...]:
    """A tensor's values in reading order."""
    return tuple(float(v) + 0.0 for v in t.flatten().tolist())  # + 0.0: no "-0" where 0 was multiplied by -1


def _conv_sum(rng: random.Random) -> tuple[dict[str, object], float, float, tuple[Step, ...]]:
    """One output cell of a small integer convolution: window * kernel, summed, plus the bias."""
    size, padding, stride = rng.choice((4, 5, 6)), rng.choice((0, 1)), rng.choice((1, 1, 2))
    image, kernel, bias = _grid(rng, size, size, 0, 3), _grid(rng, 3, 3, -1, 2), rng.randint(-2, 2)
    h_out, w_out = output_size(size, size, 3, stride, padding)
    row, col = rng.randrange(h_out), rng.randrange(w_out)
    step = conv_trace(torch.tensor(image, dtype=torch.float32), torch.tensor(kernel, dtype=torch.float32), bias,
                      stride, padding).step(row, col)
    products = step.products[0]  # (3, 3)
    steps = (Step("window", _flat(step.window[0])), Step("products", _flat(products)),
             Step("sum", (float(products.sum()),)), Step("bias", (float(bias),)), Step("total", (step.total,)))
    settings = dict(image=image, kernel=kernel, bias=bias, stride=stride, padding=padding, row=row, col=col)
    return settings, step.total, EXACT, steps


def _pool_value(rng: random.Random) -> tuple[dict[str, object], float, float, tuple[Step, ...]]:
    """One output cell of max or average pooling (stride = window, as nn.MaxPool2d(k) does)."""
    kind, kernel = rng.choice(("max", "avg")), rng.choice((2, 2, 3))
    size = kernel * rng.choice((2, 3))
    x = _grid(rng, size, size, 0, 9)
    trace = pool_trace(torch.tensor(x, dtype=torch.float32), kind, kernel)
    row, col = rng.randrange(size // kernel), rng.randrange(size // kernel)
    step = trace.step(row, col)
    window = step.window
    if kind == "max":
        steps = (Step("window", _flat(window)), Step("max", (step.value,)),
                 Step("winner", tuple(map(float, step.winner))))
        tolerance = EXACT
    else:
        steps = (Step("window", _flat(window)), Step("sum", (float(window.sum()),)),
                 Step("count", (float(window.numel()),)), Step("mean", (step.value,)))
        tolerance = TWO_DECIMALS
    return dict(map=x, kind=kind, kernel=kernel, stride=kernel, row=row, col=col), step.value, tolerance, steps


def _output_size(rng: random.Random) -> tuple[dict[str, object], float, float, tuple[Step, ...]]:
    """floor((H + 2P - D(K - 1) - 1) / S) + 1 for settings that torch accepts."""
    while True:  # redraw until the kernel fits the padded input (a seed always gives the same draws)
        h, k, p = rng.randint(5, 32), rng.choice((1, 3, 5, 7)), rng.randint(0, 3)
        s, d = rng.choice((1, 1, 2, 2, 3)), rng.choice((1, 1, 1, 2))
        if d * (k - 1) + 1 <= h + 2 * p:
            break
    answer = output_size(h, h, k, s, p, d)[0]
    reach = d * (k - 1) + 1
    steps = (Step("padded", (float(h + 2 * p),)), Step("reach", (float(reach),)),
             Step("room", (float(h + 2 * p - reach),)), Step("divide", (float((h + 2 * p - reach) // s),)),
             Step("plus_one", (float(answer),)))
    return dict(size=h, kernel=k, padding=p, stride=s, dilation=d), float(answer), EXACT, steps


def _cross_entropy(rng: random.Random) -> tuple[dict[str, object], float, float, tuple[Step, ...]]:
    """-log softmax(logits)[target] of a few logits with one decimal."""
    logits = [round(rng.uniform(-2.0, 3.0), 1) for _ in range(rng.randint(3, 5))]
    target = rng.randrange(len(logits))
    ce = cross_entropy_breakdown(logits, target)
    sm = ce.softmax
    steps = (Step("shift", (sm.shift,)), Step("shifted", _flat(sm.shifted)), Step("exps", _flat(sm.exps)),
             Step("total", (sm.total,)), Step("p_target", (ce.p_target,)), Step("loss", (ce.loss,)))
    return dict(logits=logits, target=target), ce.loss, TWO_DECIMALS, steps


MAKERS = {"conv_sum": _conv_sum, "pool_value": _pool_value, "output_size": _output_size,
          "cross_entropy": _cross_entropy}


def make_question(kind: str, seed: int) -> Question:
    """The question of a kind for a seed: the same seed always gives the same question (it can go in a URL)."""
    if kind not in MAKERS:
        raise LabError("quiz.bad_kind", kind=kind)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise LabError("quiz.bad_seed", seed=seed)
    settings, answer, tolerance, steps = MAKERS[kind](random.Random(f"{kind}:{seed}"))  # str seeds hash stably
    return Question(kind, seed, settings, float(answer), tolerance, steps)
