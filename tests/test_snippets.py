"""Every code-panel builder in lab/snippets/*.py: its script runs on its own and its `result` equals core's numbers.

A builder is a public function named *_script or *_code defined in a lab/snippets module (fragment helpers that return
lines for other builders are listed in FRAGMENTS). A new builder without a case in CASES fails
test_every_builder_has_a_case, so no code panel goes untested.
"""
from __future__ import annotations

import importlib
import inspect
import io
import math
import pkgutil
import re
import tokenize

import numpy as np
import pytest
import torch

import lab.snippets
from core.data import to_model_input
from core.lenet import LeNetConfig, build_lenet, count_parameters, layer_table
from core.pitfalls import PITFALLS
from lab.snippets import comments, docstrings, translate_comments
import test_snippets_autograd
import test_snippets_model_building
from test_snippets_autograd import case_vjp_script
from test_snippets_model_building import case_modules_script

FRAGMENTS = {"training.data_code", "training.model_code", "training.optimizer_code", "conv.image_code"}


LANG = "en"  # the UI language the panels are shown in (test_snippet_reproduces_core runs each case in both)
HAN = re.compile(r"[\u4e00-\u9fff]")
CODE_WORDS = {"uint8", "float32", "float", "ToTensor", "Normalize", "PIL", "NumPy", "PyTorch", "logits", "probs", "mean",
              "std", "True", "False", "grad", "softmax", "kh", "kw", "torch", "Size"}


def run(code: str):
    """Run a panel as the page shows it in LANG: in Chinese its comments are Chinese and the code is the same."""
    shown = translate_comments(code, LANG)
    if LANG == "zh":
        assert_chinese_comments(shown)
        assert code_tokens(shown) == code_tokens(code)  # only comments changed
    scope: dict = {}
    exec(compile(shown, "<snippet>", "exec"), scope)
    return scope["result"]


def code_like(comment: str) -> bool:
    """A comment that is code or a shape, e.g. '(N, 1, 28, 28)' or 'logits.grad = (probs - one_hot) / T'."""
    return all(len(w) == 1 or "_" in w or any(c.isdigit() for c in w) or w in CODE_WORDS
               for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", comment))


def assert_chinese_comments(code: str) -> None:
    english = [tok.string for tok in comments(code) if not HAN.search(tok.string) and not code_like(tok.string)]
    assert english == [], "comments left in English in the Chinese panel: add them to [code] in both catalogs"


def code_tokens(code: str) -> list[tuple[int, str]]:
    """The script's tokens but its comments and the text of its one-line docstrings (both shown translated)."""
    docs = {tok.start for tok in docstrings(code)}
    return [(tok.type, '"""doc"""' if tok.start in docs else tok.string)
            for tok in tokenize.generate_tokens(io.StringIO(code).readline)
            if tok.type not in (tokenize.COMMENT, tokenize.NL)]


def builders() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(lab.snippets.__path__):
        module = importlib.import_module(f"lab.snippets.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_") and name.endswith(("_script", "_code")):
                found.add(f"{info.name}.{name}")
    return found - FRAGMENTS


# ---- my pages ------------------------------------------------------------------------------------------------------

def case_image_script(digits):
    from core.image_tensor import digit_stages, histogram, norm_params, pixel_both_ways, stats, to_tensor, sample_picture
    from lab.snippets.image_tensor import image_script

    for norm, index, row, col in (("course", 3, 18, 6), ("dataset", 11, 0, 47)):
        got = run(image_script(digits.source, index, norm, 25, row, col))
        mean, std = norm_params(norm, digits.train_images)
        assert got["mean_std"] == pytest.approx((mean, std))
        stages = digit_stages(digits.test_images[index], mean, std)
        for (mn, mx, me, sd), name, hist in zip(got["stats"], ("raw", "unit", "normalized"), got["hist"]):
            s = stats(stages.tensors[name])
            assert (mn, mx, me, sd) == pytest.approx((s.minimum, s.maximum, s.mean, s.std), abs=1e-6)
            assert hist == histogram(stages.tensors[name].float(), 25, *stages.ranges[name]).counts.tolist()
        rgb = sample_picture()
        hwc, chw = pixel_both_ways(rgb, row, col)
        assert got["layout"] == (tuple(rgb.shape), tuple(to_tensor(rgb).shape), hwc.tolist(),
                                 pytest.approx(chw.tolist()))


def case_loader_script(digits):
    from core.dataset import epoch_plan, gradient_noise, scaled_lr
    from lab.snippets.dataset import loader_script

    for n, batch, shuffle, drop, seed in ((300, 64, True, True, 2), (130, 32, False, False, 0)):
        length, firsts, noise, new_lr = run(loader_script(digits.source, n, batch, shuffle, drop, seed, 200, (8, 50),
                                                          3, 0.01, 64, 256))
        plan = epoch_plan(n, batch, shuffle, drop, seed)
        assert length == plan.iterations
        assert firsts == [digits.train_labels[list(f)].tolist() for f in plan.first_batches]
        want = gradient_noise(digits.train_images[:200], digits.train_labels[:200], (8, 50), 3, seed)
        assert [noise[g.batch_size] for g in want] == pytest.approx([g.mean for g in want], rel=1e-4)
        assert new_lr == pytest.approx(scaled_lr(0.01, 64, 256))


def case_autograd_script(digits):
    from core.autograd import backward_calls, notes_example, tracking
    from lab.snippets.autograd import autograd_script

    for seed, calls, how, zero, xg in ((0, 3, "retain_graph", False, False), (4, 2, "forward_again", True, True),
                                       (1, 3, "neither", False, False)):
        loss, grads, error, tracks = run(autograd_script(seed, calls, how, zero, xg))
        acc = backward_calls(seed, calls, how, zero, xg)
        assert loss == pytest.approx(notes_example(seed).loss.item())
        assert error == acc.error and (error is None) == (how != "neither")
        for name, value in acc.grads[-1].items():
            torch.testing.assert_close(torch.tensor(grads[name]), value)
        tr = tracking(seed)
        assert tracks == (tr.normal, tr.no_grad, tr.detached)


def case_modes_script(digits):
    from core.train_eval import MODES, measure_no_grad, repeat_forward, running_stats
    from lab.snippets.train_eval import modes_script

    logits, means, saved = run(modes_script(digits.source, 0.4, 0.2, 3, 5, 4, 16, 2, 8))
    x = to_model_input(digits.test_images[:16])
    for mode in MODES:
        torch.testing.assert_close(torch.tensor(logits[mode]), repeat_forward(x, mode, 3, 0.4, 0.2, 5).logits)
    trace = running_stats([to_model_input(digits.train_images[i * 16 : (i + 1) * 16]) for i in range(4)], 2, 0.2, 5)
    torch.testing.assert_close(torch.tensor(means), trace.running_mean)
    s = measure_no_grad(build_lenet().eval(), to_model_input(digits.test_images[:8]), repeats=1)
    assert saved == (s.saved_bytes_grad, s.saved_bytes_no_grad) and saved[1] == 0


def case_pitfall_script(digits):
    from core.pitfalls import BASE, pitfall_pair
    from core.training import run_to_end
    from lab.snippets.pitfalls import pitfall_script

    tiny = BASE.but(train_size=128, epochs=2, batch_size=32, seed=1)
    for name, base in (("no_zero_grad", tiny), ("optimizer_in_loop", tiny), ("softmax_before_loss", tiny.but(activation="relu")),
                       ("no_eval", tiny.but(dropout=0.3)), ("no_normalize", tiny.but(optimizer="adam", lr=1e-3))):
        correct, mistaken = pitfall_pair(name, base)
        got = run(pitfall_script(name, correct))
        for key, cfg in (("correct", correct), ("mistake", mistaken)):
            epochs, _ = run_to_end(cfg, digits)
            assert got[key] == pytest.approx([e.test_acc for e in epochs], abs=1e-6), (name, key)


def case_home_script(digits):
    from lab.snippets.home import home_script

    shapes, params, logits = run(home_script(digits.source, 7))
    model = build_lenet(LeNetConfig(), 0).eval()
    x = to_model_input(digits.test_images[7:8])
    assert shapes == [list(r.shape) for r in layer_table(model, x)]
    assert params == count_parameters(model) == 61706
    with torch.no_grad():
        assert logits == pytest.approx(model(x)[0].tolist(), abs=1e-6)


# ---- the other pages' builders (each also has its own test file) ------------------------------------------------

def case_training_script(digits):
    from core.training import TrainConfig, run_to_end
    from lab.snippets.training import training_script

    cfg = TrainConfig(epochs=1, train_size=128, mistake="no_zero_grad", optimizer="sgd", lr=0.05)
    assert run(training_script(cfg)) == pytest.approx([e.test_acc for e in run_to_end(cfg, digits)[0]], abs=1e-6)


def case_inspect_script(digits, tmp_path):
    from core.checkpoint import Checkpoint, data_fingerprint, save_checkpoint
    from core.model_inspect import predict
    from core.training import TrainConfig, run_to_end
    from lab.snippets.model_inspect import inspect_script

    cfg = TrainConfig(epochs=1, train_size=128, seed=3)
    epochs, done = run_to_end(cfg, digits)
    ckpt = Checkpoint(config=cfg, model=done.model, epochs=tuple(epochs), losses=(), batches_per_epoch=2,
                      reason=done.reason, epochs_run=1, best_epoch=1, diverged_step=None, seconds=0.1)
    path = save_checkpoint(tmp_path, ckpt, data_fingerprint(digits))
    accuracy, _ = run(inspect_script(cfg, str(path)))
    assert accuracy == pytest.approx(predict(done.model, digits.test_images, digits.test_labels).accuracy, abs=1e-6)


def case_values_code(digits):
    from core.activations import evaluate
    from lab.snippets.activations import values_code

    y, dy = run(values_code("tanh", [-1.0, 0.5]))
    want = evaluate("tanh", [-1.0, 0.5])
    assert y == pytest.approx(want.y.tolist()) and dy == pytest.approx(want.dy.tolist())


def case_stack_code(digits):
    from core.activations import deep_stack, stack_gradients
    from lab.snippets.activations import stack_code

    norms = run(stack_code("sigmoid", 3, "default", digits.source))
    want = stack_gradients(deep_stack("sigmoid", 3, init="default"), to_model_input(digits.test_images[:64]).flatten(1),
                           digits.test_labels[:64])
    assert norms == pytest.approx(want.weight_grad_norm.tolist(), rel=1e-4)


def case_cross_entropy_code(digits):
    from core.losses import cross_entropy_breakdown
    from lab.snippets.losses import cross_entropy_code

    probs, loss, _ = run(cross_entropy_code([2.0, 1.0, 0.1], 0))
    ce = cross_entropy_breakdown([2.0, 1.0, 0.1], 0)
    assert loss == pytest.approx(ce.loss) == pytest.approx(math.log(1 + math.exp(-1) + math.exp(-1.9)))
    assert probs == pytest.approx(ce.softmax.probs.tolist())


def case_batch_code(digits):
    from core.losses import batch_cross_entropy
    from lab.snippets.losses import batch_code

    logits, labels = [[1.2, 0.8, 2.1, 0.5], [0.2, 2.5, 0.3, 1.0]], [2, 1]
    mean, per = run(batch_code(logits, labels))
    want = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels), reduction="none")
    assert per == pytest.approx(want.tolist()) and mean == pytest.approx(float(want.mean()))
    assert batch_cross_entropy is not None


def case_conv_script(digits):
    from core.conv import NOTES_IMAGE, NOTES_KERNEL, conv_trace
    from lab.snippets.conv import conv_script, image_code

    code = conv_script(image_code("notes", NOTES_IMAGE, None, None, False, digits.source), NOTES_KERNEL, 0.5, 1, 1, 1, 0, 0)
    torch.testing.assert_close(run(code), conv_trace(NOTES_IMAGE, NOTES_KERNEL, 0.5, 1, 1, 1).output)


def case_pool_script(digits):
    from core.pooling import NOTES_RAMP, pool_trace
    from lab.snippets.pooling import pool_script

    got = run(pool_script(NOTES_RAMP, "ramp", None, None, digits.source, 2, None, 0))
    torch.testing.assert_close(got[0], pool_trace(NOTES_RAMP, "max", 2, None, 0).output)
    torch.testing.assert_close(got[1], pool_trace(NOTES_RAMP, "avg", 2, None, 0).output)


def case_path_script(digits):
    from core.optim_paths import optimizer_path
    from lab.snippets.optimizers import path_script

    path = optimizer_path("rosenbrock", "momentum", (-1.5, 2.0), 30, lr=1e-3, momentum=0.8)
    got = run(path_script("rosenbrock", "momentum", path.hyperparams, (-1.5, 2.0), 30))
    np.testing.assert_allclose(got, path.positions[-1].tolist(), rtol=1e-6)


CASES = {"image_tensor.image_script": case_image_script, "dataset.loader_script": case_loader_script,
         "autograd.autograd_script": case_autograd_script, "train_eval.modes_script": case_modes_script,
         "pitfalls.pitfall_script": case_pitfall_script, "home.home_script": case_home_script,
         "training.training_script": case_training_script, "model_inspect.inspect_script": case_inspect_script,
         "activations.values_code": case_values_code, "activations.stack_code": case_stack_code,
         "losses.cross_entropy_code": case_cross_entropy_code, "losses.batch_code": case_batch_code,
         "conv.conv_script": case_conv_script, "pooling.pool_script": case_pool_script,
         "optimizers.path_script": case_path_script, "model_building.modules_script": case_modules_script,
         "autograd.vjp_script": case_vjp_script}


def test_every_builder_has_a_case():
    assert builders() - set(CASES) == set(), "a code panel without a test: add a case to CASES"
    assert set(CASES) - builders() == set(), "a case for a builder that no longer exists"


SLOW = {"pitfalls.pitfall_script"}  # trains every pitfall's pair of runs, as the scripts do


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("builder", [pytest.param(b, marks=pytest.mark.slow) if b in SLOW else b for b in sorted(CASES)])
def test_snippet_reproduces_core(builder, lang, digits, tmp_path, monkeypatch):
    """Every panel, as shown in English and in Chinese (issue 15 item 10: Chinese comments, the same code)."""
    monkeypatch.setattr(f"{__name__}.LANG", lang)
    for module in (test_snippets_autograd, test_snippets_model_building):  # cases that live there run here too
        monkeypatch.setattr(module, "run", run)
    case = CASES[builder]
    kwargs = {"tmp_path": tmp_path} if "tmp_path" in inspect.signature(case).parameters else {}
    case(digits, **kwargs)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_shows_the_panel_with_comments_in_its_language(lang):
    from conftest import run_app

    at = run_app(lang, page="app_pages/conv.py")
    (panel,) = [c.value for c in at.code if "F.conv2d" in c.value]
    assert ("# 用一个层做同样的计算" in panel) == (lang == "zh")
    assert ("# the same with a layer" in panel) == (lang == "en")


@pytest.mark.slow
@pytest.mark.parametrize("page", ["dataset", "train_eval", "image_tensor", "model_building", "autograd"])
def test_the_pages_short_code_blocks_have_chinese_comments(page):
    """Issue 15 item 10: not only the code panel: every Python block a page shows (lab.ui.code) speaks Chinese."""
    from conftest import run_app

    at = run_app("zh", page=f"app_pages/{page}.py")
    blocks = [c.value for c in at.code if c.language == "python"]
    assert blocks
    for block in blocks:
        assert_chinese_comments(block)
        assert "The course's network" not in block and "Logits (N, 10) for" not in block  # docstrings too


@pytest.mark.parametrize("name", [*PITFALLS, "call_order", "accumulation"])
def test_each_pitfall_s_side_by_side_lines_translate(name):
    """The pitfalls page's 'correct' and 'mistaken' lines (shown through lab.ui.code), for every pitfall, in Chinese."""
    from core.training import TrainConfig
    from lab.snippets.pitfalls import diff_lines

    for lines in diff_lines(name, TrainConfig(), "bzs", 4):
        shown = translate_comments(lines, "zh")
        assert_chinese_comments(shown)
        assert code_tokens(shown) == code_tokens(lines)
