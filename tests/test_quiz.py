"""Predict, then reveal: every seeded question's answer against torch, its worked steps adding up, and check()."""
import math

import pytest
import torch
import torch.nn.functional as F

from core.errors import LabError
from core.quiz import KINDS, TWO_DECIMALS, make_question

SEEDS = range(25)


def torch_answer(kind: str, s: dict) -> float:
    """The same number straight from torch.nn.functional."""
    if kind == "conv_sum":
        x, k = torch.tensor(s["image"], dtype=torch.float32), torch.tensor(s["kernel"], dtype=torch.float32)
        out = F.conv2d(x[None, None], k[None, None], torch.tensor([float(s["bias"])]), s["stride"], s["padding"])
        return float(out[0, 0, s["row"], s["col"]])
    if kind == "pool_value":
        x = torch.tensor(s["map"], dtype=torch.float32)[None, None]
        pool = F.max_pool2d if s["kind"] == "max" else F.avg_pool2d
        return float(pool(x, s["kernel"], s["stride"])[0, 0, s["row"], s["col"]])
    if kind == "output_size":
        x, w = torch.zeros(1, 1, s["size"], s["size"]), torch.zeros(1, 1, s["kernel"], s["kernel"])
        return float(F.conv2d(x, w, stride=s["stride"], padding=s["padding"], dilation=s["dilation"]).shape[-1])
    logits = torch.tensor([s["logits"]], dtype=torch.float64)
    return float(F.cross_entropy(logits, torch.tensor([s["target"]])))


@pytest.mark.parametrize("kind", KINDS)
def test_answers_match_torch(kind):
    for seed in SEEDS:
        q = make_question(kind, seed)
        assert q.answer == pytest.approx(torch_answer(kind, q.settings), abs=1e-6), (kind, seed)
        assert q.check(q.answer) and q.check(torch_answer(kind, q.settings))


@pytest.mark.parametrize("kind", KINDS)
def test_worked_steps_add_up(kind):
    for seed in SEEDS:
        q = make_question(kind, seed)
        st = {step.key: step.values for step in q.steps}
        if kind == "conv_sum":
            kernel = [v for row in q.settings["kernel"] for v in row]
            assert st["products"] == pytest.approx([w * k for w, k in zip(st["window"], kernel)])
            assert sum(st["products"]) + st["bias"][0] == pytest.approx(q.answer) == pytest.approx(st["total"][0])
        elif kind == "pool_value" and q.settings["kind"] == "max":
            r, c = (int(v) for v in st["winner"])
            assert max(st["window"]) == q.answer == q.settings["map"][r][c]
        elif kind == "pool_value":
            assert st["sum"][0] / st["count"][0] == pytest.approx(q.answer) and st["count"][0] == q.settings["kernel"] ** 2
        elif kind == "output_size":
            s = q.settings
            assert st["padded"][0] == s["size"] + 2 * s["padding"]
            assert st["divide"][0] == st["room"][0] // s["stride"] and st["plus_one"][0] == st["divide"][0] + 1 == q.answer
        else:
            exps = [math.exp(v) for v in st["shifted"]]
            assert exps == pytest.approx(st["exps"]) and sum(exps) == pytest.approx(st["total"][0])
            p = st["exps"][q.settings["target"]] / st["total"][0]
            assert p == pytest.approx(st["p_target"][0]) and -math.log(p) == pytest.approx(q.answer)
        assert all(all(math.isfinite(v) for v in step.values) for step in q.steps)


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_question_other_seeds_other_questions(kind):
    a, b = make_question(kind, 7), make_question(kind, 7)
    assert a == b and hash(a) == hash(b) and a.settings == b.settings
    assert len({repr(make_question(kind, s).settings) for s in SEEDS}) >= 20


def test_check_uses_the_tolerance():
    q = make_question("cross_entropy", 0)  # loss 2.8407...
    assert q.tolerance == TWO_DECIMALS and q.check(round(q.answer, 2)) and q.check(round(q.answer, 1) + 0.0) is False
    assert not q.check(q.answer + 0.02) and not q.check(float("nan")) and not q.check(float("inf"))
    exact = make_question("output_size", 0)
    assert exact.check(exact.answer) and not exact.check(exact.answer + 0.5) and not exact.check(exact.answer - 1)


@pytest.mark.parametrize("kind, seed, code", [("median", 0, "quiz.bad_kind"), ("conv_sum", -1, "quiz.bad_seed"),
                                              ("conv_sum", 2**31, "quiz.bad_seed"), ("conv_sum", 1.5, "quiz.bad_seed"),
                                              ("conv_sum", True, "quiz.bad_seed")])
def test_bad_kind_or_seed(kind, seed, code):
    with pytest.raises(LabError) as info:
        make_question(kind, seed)
    assert info.value.code == code
