"""Optimizer paths: recorded torch.optim steps against hand-written update formulas, progress, divergence, bad input."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import LabError
from core.minibatch_noise import digit_features, logistic_loss, loss_grid, minibatch_path
from core.optim_paths import (OPTIMIZERS, SURFACES, make_optimizer, optimizer_path, race, resolve_hyperparams,
                              surface_grid)


def rosen_grad(x: float, y: float) -> tuple[float, float]:
    """Gradient of (1-x)^2 + 100 (y-x^2)^2, by hand."""
    return -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


def close(a: torch.Tensor, b: list, rtol: float = 1e-9) -> None:
    torch.testing.assert_close(a, torch.tensor(b, dtype=torch.float64), rtol=rtol, atol=1e-12)


def test_gradients_are_the_hand_derivative():
    path = optimizer_path("rosenbrock", "sgd", (1.5, 1.5), 20, lr=1e-4)
    for k in range(20):
        close(path.grads[k], list(rosen_grad(*path.positions[k].tolist())))


def test_sgd_steps_follow_theta_minus_lr_grad():
    lr, theta = 1e-3, [1.5, 1.5]
    path = optimizer_path("rosenbrock", "sgd", tuple(theta), 50, lr=lr)
    for k in range(50):
        g = rosen_grad(*theta)
        theta = [theta[i] - lr * g[i] for i in range(2)]
        close(path.positions[k + 1], theta)
    close(path.updates[0], [-lr * v for v in rosen_grad(1.5, 1.5)])


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_buffer_and_steps(nesterov):
    lr, mu, theta, buf = 1e-3, 0.9, [-1.5, 2.0], None
    path = optimizer_path("rosenbrock", "nesterov" if nesterov else "momentum", tuple(theta), 40, lr=lr, momentum=mu)
    for k in range(40):
        g = rosen_grad(*theta)
        buf = list(g) if buf is None else [mu * buf[i] + g[i] for i in range(2)]  # torch: b_1 = g_1
        d = [g[i] + mu * buf[i] for i in range(2)] if nesterov else buf
        theta = [theta[i] - lr * d[i] for i in range(2)]
        close(path.state["momentum_buffer"][k], buf)
        close(path.positions[k + 1], theta)


def test_adam_matches_the_course_formulas():
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    theta, m, v = [-1.5, 2.0], [0.0, 0.0], [0.0, 0.0]
    path = optimizer_path("rosenbrock", "adam", tuple(theta), 60, lr=lr, beta1=b1, beta2=b2, eps=eps)
    for t in range(1, 61):
        g = rosen_grad(*theta)
        m = [b1 * m[i] + (1 - b1) * g[i] for i in range(2)]
        v = [b2 * v[i] + (1 - b2) * g[i] ** 2 for i in range(2)]
        m_hat = [m[i] / (1 - b1**t) for i in range(2)]
        v_hat = [v[i] / (1 - b2**t) for i in range(2)]
        theta = [theta[i] - lr * m_hat[i] / (math.sqrt(v_hat[i]) + eps) for i in range(2)]
        k = t - 1
        close(path.state["exp_avg"][k], m)
        close(path.state["exp_avg_sq"][k], v)
        close(path.state["m_hat"][k], m_hat)
        close(path.state["v_hat"][k], v_hat)
        assert path.state["bias_correction1"][k].item() == pytest.approx(1 - b1**t)
        close(path.positions[t], theta)


def test_first_adam_step_moves_each_coordinate_by_about_lr():
    """Adam's per-parameter scaling: step 1 is lr * sign(g) whatever the size of g (the ill-conditioned bowl)."""
    path = optimizer_path("bowl", "adam", (-4.5, 2.0), 1, lr=0.1)
    close(path.updates[0].abs(), [0.1, 0.1], rtol=1e-6)


SANE = {"sgd": {"lr": 1e-3}, "momentum": {"lr": 1e-3}, "nesterov": {"lr": 1e-3}, "rmsprop": {"lr": 1e-3},
        "adagrad": {"lr": 0.5}, "adam": {"lr": 1e-2}, "adamw": {"lr": 1e-2}}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_makes_rosenbrock_progress(name):
    path = optimizer_path("rosenbrock", name, (1.5, 1.5), 1500, **SANE[name])
    dist = (path.positions - torch.tensor([1.0, 1.0], dtype=torch.float64)).norm(dim=1)
    assert path.diverged_at is None
    assert dist[-1] < dist[0]
    assert path.losses[-1] < 0.01 * path.losses[0]


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_every_surface_records_consistent_shapes(surface):
    path = optimizer_path(surface, "adam", SURFACES[surface].start, 30, lr=0.05)
    n = path.steps
    assert path.positions.shape == (n + 1, 2) and path.losses.shape == (n + 1,) and path.updates.shape == (n, 2)
    xs, ys, z = surface_grid(surface, 20)
    fn = SURFACES[surface].fn
    assert z[3, 5].item() == pytest.approx(fn(xs[5], ys[3]).item())
    close(path.losses, [float(fn(*p)) for p in path.positions.tolist()])


def test_too_large_learning_rate_is_reported_not_raised():
    path = optimizer_path("rosenbrock", "sgd", (-1.5, 2.0), 200, lr=0.01)
    assert path.reason == "far_away" and path.diverged_at is not None and path.diverged_at < 20
    assert path.steps == path.diverged_at and len(path.positions) == path.steps + 1
    blown = optimizer_path("rosenbrock", "sgd", (1.5, 1.5), 10, lr=1e306)  # the first step overflows to inf
    assert (blown.diverged_at, blown.reason, blown.steps) == (1, "non_finite", 0)
    assert torch.isfinite(blown.positions).all()


def test_race_equals_separate_runs():
    runs = [("sgd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3}), ("adam", {"lr": 0.05}), ("sgd", {"lr": 0.02})]
    raced = race("rosenbrock", runs, (-1.5, 2.0), 120)
    for path, (name, hp) in zip(raced, runs):
        alone = optimizer_path("rosenbrock", name, (-1.5, 2.0), 120, **hp)
        torch.testing.assert_close(path.positions, alone.positions, rtol=0, atol=0)
        assert path.diverged_at == alone.diverged_at
    assert raced[3].diverged_at is not None and raced[0].diverged_at is None


def test_saddle_holds_sgd_while_adam_escapes():
    start = SURFACES["saddle"].start
    sgd = optimizer_path("saddle", "sgd", start, 150, lr=0.01)
    adam = optimizer_path("saddle", "adam", start, 150, lr=0.05)
    assert abs(sgd.positions[-1, 1]) < 0.05  # still near the ridge line y = 0
    assert abs(adam.positions[-1, 1]) > 0.5  # fell into a valley


@settings(max_examples=25, deadline=None)
@given(lr=st.floats(1e-3, 0.49), x=st.floats(-5, 5), y=st.floats(-3, 3))
def test_gradient_descent_on_the_bowl_never_goes_up_below_2_over_L(lr, x, y):
    losses = optimizer_path("bowl", "sgd", (x, y), 30, lr=lr).losses
    assert (losses[1:] <= losses[:-1] + 1e-12).all()


@pytest.mark.parametrize("hp, code", [
    ({"lr": float("nan")}, "optim.bad_lr"), ({"lr": 0.0}, "optim.bad_lr"), ({"lr": -0.1}, "optim.bad_lr"),
    ({"lr": float("inf")}, "optim.bad_lr"), ({"lr": "fast"}, "optim.bad_lr"),
    ({"beta1": 1.0}, "optim.bad_beta"), ({"beta2": -0.1}, "optim.bad_beta"), ({"beta1": float("nan")}, "optim.bad_beta"),
    ({"eps": 0.0}, "optim.bad_eps"), ({"weight_decay": -1.0}, "optim.bad_weight_decay"),
    ({"momentum": 0.5}, "optim.unknown_hyperparam"),
])
def test_nonsense_adam_settings_raise(hp, code):
    with pytest.raises(LabError) as err:
        optimizer_path("rosenbrock", "adam", (0.0, 0.0), 5, **hp)
    assert err.value.code == code and isinstance(err.value, ValueError)


@pytest.mark.parametrize("kwargs, code", [
    ({"optimizer": "momentum", "momentum": -0.1}, "optim.bad_momentum"),
    ({"optimizer": "momentum", "momentum": 1.0}, "optim.bad_momentum"),
    ({"optimizer": "rmsprop", "alpha": 1.5}, "optim.bad_alpha"),
    ({"optimizer": "nesterov", "momentum": 0.0}, "optim.nesterov_needs_momentum"),
    ({"optimizer": "lbfgs"}, "optim.unknown_optimizer"),
    ({"surface": "everest"}, "optim.unknown_surface"),
    ({"steps": -1}, "optim.bad_steps"), ({"steps": 2.5}, "optim.bad_steps"), ({"steps": 10**6}, "optim.bad_steps"),
    ({"start": (float("nan"), 0.0)}, "optim.bad_start"), ({"start": (1e9, 0.0)}, "optim.bad_start"),
    ({"start": (1.0,)}, "optim.bad_start"),
])
def test_bad_runs_raise_lab_errors(kwargs, code):
    args = {"surface": "rosenbrock", "optimizer": "sgd", "start": (0.0, 0.0), "steps": 5} | kwargs
    surface, optimizer, start, steps = (args.pop(k) for k in ("surface", "optimizer", "start", "steps"))
    with pytest.raises(LabError) as err:
        optimizer_path(surface, optimizer, start, steps, **args)
    assert err.value.code == code


def test_defaults_are_filled_in():
    assert resolve_hyperparams("adamw") == {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}


# --- mini-batch noise on real digits -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zeros_and_ones():
    from core.data import load_digits

    data = load_digits(None)
    return digit_features(data.train_images, data.train_labels, (0, 1))


def test_features_and_loss_match_torch(zeros_and_ones):
    feats, y = zeros_and_ones
    assert feats.shape == (len(y), 2) and set(y.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(feats.mean(0), torch.zeros(2, dtype=torch.float64), atol=1e-9, rtol=0)
    w = torch.tensor([0.3, -1.2], dtype=torch.float64)
    expected = F.binary_cross_entropy(torch.sigmoid(feats @ w), y)
    torch.testing.assert_close(logistic_loss(w, feats, y), expected)
    xs, ys, z = loss_grid(feats, y, [minibatch_path(feats, y, 800, 3, seed=0, lr=0.5)], points=7)
    torch.testing.assert_close(z[2, 4], logistic_loss(torch.stack([xs[4], ys[2]]), feats, y))


def test_minibatch_sgd_step_is_the_batch_gradient(zeros_and_ones):
    feats, y = zeros_and_ones
    path = minibatch_path(feats, y, 8, 1, seed=3, start=(2.0, 2.0), lr=0.5)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(3))[:8]
    w0 = torch.tensor([2.0, 2.0], dtype=torch.float64)
    grad = feats[order].T @ (torch.sigmoid(feats[order] @ w0) - y[order]) / 8  # d BCE / dw, by hand
    torch.testing.assert_close(path.positions[1], w0 - 0.5 * grad)


def test_small_batches_are_noisier_and_seeded(zeros_and_ones):
    feats, y = zeros_and_ones
    full = minibatch_path(feats, y, len(y), 150, seed=0, lr=0.5)
    torch.testing.assert_close(full.positions, minibatch_path(feats, y, len(y), 150, seed=9, lr=0.5).positions)
    wander = {}
    for bs in (1, 64):
        path = minibatch_path(feats, y, bs, 150, seed=0, lr=0.5)
        assert torch.equal(path.positions, minibatch_path(feats, y, bs, 150, seed=0, lr=0.5).positions)
        wander[bs] = (path.positions - full.positions).norm(dim=1).mean().item()
        assert path.examples_seen == 150 * bs and path.epochs == pytest.approx(150 * bs / len(y))
    assert wander[1] > 3 * wander[64]
    assert full.full_losses[-1] < 0.5 * full.full_losses[0]


@pytest.mark.parametrize("bs", [0, -4, 10**6, 2.0, True])
def test_bad_batch_sizes_raise(zeros_and_ones, bs):
    feats, y = zeros_and_ones
    with pytest.raises(LabError) as err:
        minibatch_path(feats, y, bs, 5, seed=0)
    assert err.value.code == "optim.bad_batch"


def test_bad_classes_raise(zeros_and_ones):
    with pytest.raises(LabError):
        digit_features(torch.zeros(3, 28, 28, dtype=torch.uint8), torch.tensor([1, 1, 2]), (1, 1))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_recorded_path_equals_plain_optimizer_step_loop(name):
    """race() calls the step body without torch's wrappers: the positions and state must be those of opt.step()."""
    path = optimizer_path("rosenbrock", name, (1.5, 1.5), 40)
    theta = torch.tensor([1.5, 1.5], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(name, [theta], path.hyperparams)
    for k in range(40):
        opt.zero_grad()
        SURFACES["rosenbrock"].fn(theta[0], theta[1]).backward()
        opt.step()
        torch.testing.assert_close(theta.detach(), path.positions[k + 1], rtol=0, atol=0)
    for key, value in opt.state[theta].items():
        if key in path.state:
            torch.testing.assert_close(value, path.state[key][-1], rtol=0, atol=0)
