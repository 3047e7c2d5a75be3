"""The model-building page's code panel runs as plain PyTorch and gives core's numbers.

case_modules_script takes (digits) like the cases of tests/test_snippets.py, so it is listed in its CASES as
"model_building.modules_script".
"""
import pytest
import torch

from core.model_building import (call_vs_forward, conv_params, count_params, flatten_demo, network_and_input, parameter_table,
                          predict, state_dict_round_trip)
from lab.snippets.model_building import modules_script


def run(code: str):
    scope: dict = {}
    exec(compile(code, "<snippet>", "exec"), scope)
    return scope["result"]


def case_modules_script(digits=None):
    for seed, n, conv, fmap, batch in ((0, 4, (192, 128, 3, True, 1), "notes", 1), (5, 9, (6, 16, 5, False, 2), "lenet", 3)):
        got = run(modules_script(seed, n, *conv, fmap, batch))
        model, x = network_and_input(seed, n)
        assert got["parameters"] == [(r.name, r.shape, r.count) for r in parameter_table(model)]
        assert got["total"] == count_params(model)
        pred = predict(model, x)
        torch.testing.assert_close(got["logits"], pred.logits)
        torch.testing.assert_close(got["probs"], pred.probs)
        assert got["predicted"] == pred.predicted.tolist()
        cf = call_vs_forward(model, x)
        assert got["hooks"] == (cf.hook_fired_on_call, cf.hook_fired_on_forward) and got["same"] == cf.same_values
        cc = conv_params(*conv)
        assert got["conv"] == (cc.weight_shape, cc.total)
        fd = flatten_demo(fmap, batch)
        assert got["flatten"] == (fd.view_shape, fd.flatten_shape, fd.linear_out, fd.gap_shape)
        assert got["heads"] == (fd.linear_params, fd.gap_linear_params)
        rt = state_dict_round_trip(seed, n)
        assert got["state_dict"] == list(rt.keys) and got["identical"] == rt.identical is True


def test_snippet_reproduces_core():
    case_modules_script()
