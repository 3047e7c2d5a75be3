"""Optimizers racing on 2-D loss surfaces: real torch.optim steps on a 2-element parameter, with their inner state."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import torch
import torch.optim.optimizer as _optim_module

from core.errors import LabError

Tensor = torch.Tensor


@dataclass(frozen=True)
class Surface:
    """A named loss surface f(x, y) >= 0 with the region a page plots."""

    name: str
    fn: Callable[[Tensor, Tensor], Tensor]  # works on scalars and on grids alike
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    start: tuple[float, float]  # a start that tells the surface's story


SURFACES: dict[str, Surface] = {
    # Hessian diag(0.04, 4): curvature 100x larger along y than along x; SGD is stable only for lr < 2/4.
    "bowl": Surface("bowl", lambda x, y: 0.02 * x**2 + 2.0 * y**2, (-5.0, 5.0), (-3.0, 3.0), ((0.0, 0.0),), (-4.5, 2.0)),
    "rosenbrock": Surface("rosenbrock", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
                          (-2.0, 2.0), (-1.0, 3.0), ((1.0, 1.0),), (-1.5, 2.0)),
    "beale": Surface("beale", lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2
                     + (2.625 - x + x * y**3) ** 2, (-4.5, 4.5), (-4.5, 4.5), ((3.0, 0.5),), (-1.0, -1.5)),
    "himmelblau": Surface("himmelblau", lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2, (-5.0, 5.0),
                          (-5.0, 5.0), ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                                        (3.584428, -1.848126)), (0.0, -0.5)),
    # A saddle at (0, 0) between two valleys at (0, +-1): f = x^2 + (y^2 - 1)^2.
    "saddle": Surface("saddle", lambda x, y: x**2 + (y**2 - 1) ** 2, (-2.0, 2.0), (-1.6, 1.6),
                      ((0.0, 1.0), (0.0, -1.0)), (1.8, 1e-4)),
}

# optimizer -> (torch class name, fixed settings, {hyperparameter: default})
OPTIMIZERS: dict[str, tuple[str, dict[str, object], dict[str, float]]] = {
    "sgd": ("SGD", {}, {"lr": 1e-3, "momentum": 0.0, "weight_decay": 0.0}),
    "momentum": ("SGD", {}, {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0}),
    "nesterov": ("SGD", {"nesterov": True}, {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0}),
    "rmsprop": ("RMSprop", {}, {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0}),
    "adagrad": ("Adagrad", {}, {"lr": 0.1, "eps": 1e-10, "weight_decay": 0.0}),
    "adam": ("Adam", {}, {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}),
    "adamw": ("AdamW", {}, {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}),
}
# preset -> (surface, start or None for the surface's own, steps, racers [(optimizer, lr)])
PRESETS: dict[str, tuple[str, tuple[float, float] | None, int, tuple[tuple[str, float], ...]]] = {
    "valley": ("rosenbrock", (-1.5, 2.0), 500, (("sgd", 1e-3), ("momentum", 1e-3), ("adam", 0.05))),
    "bowl": ("bowl", None, 100, (("sgd", 0.45), ("momentum", 0.1), ("adam", 0.3))),
    "too_big": ("bowl", None, 100, (("sgd", 0.1), ("sgd", 0.45), ("sgd", 0.55))),  # stable only for lr < 2/4
    "saddle": ("saddle", None, 300, (("sgd", 0.01), ("momentum", 0.01), ("adam", 0.05))),
    "himmelblau": ("himmelblau", None, 300, (("sgd", 0.005), ("nesterov", 0.002), ("rmsprop", 0.05))),
}


def default_runs(preset: str) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    """A preset's racers with every other setting at its default, as the optimizers page keys its race on them."""
    return tuple((name, tuple(sorted({**OPTIMIZERS[name][2], "lr": lr}.items()))) for name, lr in PRESETS[preset][3])


STATE_KEYS = ("momentum_buffer", "square_avg", "sum", "exp_avg", "exp_avg_sq")  # torch's names in optimizer.state[p]
MAX_STEPS = 5000
FAR = 10.0  # "far outside the plotted region": further than FAR half-widths from its centre


@dataclass(frozen=True, eq=False)
class OptimPath:
    """One optimizer's run: step k (1-based) moves positions[k-1] to positions[k] using grads[k-1]."""

    surface: str
    optimizer: str
    hyperparams: dict[str, float]  # every setting used, defaults filled in
    positions: Tensor  # (n+1, 2) theta_0 .. theta_n, float64
    losses: Tensor  # (n+1,) f(theta_k)
    grads: Tensor  # (n, 2) gradient at theta_{k-1}, by autograd
    updates: Tensor  # (n, 2) theta_k - theta_{k-1}
    state: dict[str, Tensor]  # torch's state after step k, e.g. "exp_avg" (n, 2); Adam adds m_hat, v_hat (n, 2) and
    #                           bias_correction1/2 (n,)
    diverged_at: int | None  # the step whose result was non-finite or far away, else None
    reason: str | None  # "non_finite" or "far_away"

    @property
    def steps(self) -> int:
        """Number of recorded steps n."""
        return len(self.grads)


def _check_range(name: str, value: float, lo: float, hi: float, hi_open: bool = True, lo_open: bool = False) -> None:
    """Raise optim.bad_<name> unless lo <= value < hi (bounds open or closed as asked) and value is finite."""
    ok = math.isfinite(value) and (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)
    if not ok:
        raise LabError(f"optim.bad_{name}", f"{name}={value} is out of range", name=name, value=value)


def resolve_hyperparams(optimizer: str, **hyperparams: float) -> dict[str, float]:
    """The optimizer's settings with defaults filled in; nonsense values raise LabError (a ValueError)."""
    if optimizer not in OPTIMIZERS:
        raise LabError("optim.unknown_optimizer", f"unknown optimizer {optimizer!r}", name=str(optimizer))
    defaults = OPTIMIZERS[optimizer][2]
    unknown = sorted(set(hyperparams) - set(defaults))
    if unknown:
        raise LabError("optim.unknown_hyperparam", f"{optimizer} has no {unknown[0]}", name=unknown[0], opt=optimizer)
    hp = {**defaults}
    for key, value in hyperparams.items():
        try:
            hp[key] = float(value)
        except (TypeError, ValueError):
            raise LabError(f"optim.bad_{'beta' if key.startswith('beta') else key}", f"{key}={value!r}",
                           name=key, value=value) from None
    _check_range("lr", hp["lr"], 0.0, math.inf, lo_open=True)
    _check_range("weight_decay", hp["weight_decay"], 0.0, math.inf)
    if "momentum" in hp:
        _check_range("momentum", hp["momentum"], 0.0, 1.0)
        if optimizer == "nesterov" and hp["momentum"] == 0:  # torch refuses it too
            raise LabError("optim.nesterov_needs_momentum", "Nesterov needs momentum > 0", value=hp["momentum"])
    if "alpha" in hp:
        _check_range("alpha", hp["alpha"], 0.0, 1.0)
    if "eps" in hp:
        _check_range("eps", hp["eps"], 0.0, 1.0, lo_open=True)
    for beta in ("beta1", "beta2"):
        if beta in hp:
            try:
                _check_range("beta", hp[beta], 0.0, 1.0)
            except LabError as exc:
                raise LabError("optim.bad_beta", str(exc), name=beta, value=hp[beta]) from None
    return hp


def make_optimizer(optimizer: str, params: list[Tensor], hp: dict[str, float]) -> torch.optim.Optimizer:
    """The real torch.optim optimizer for a name and resolved settings."""
    cls_name, fixed, _ = OPTIMIZERS[optimizer]
    kwargs: dict[str, object] = {k: v for k, v in hp.items() if not k.startswith("beta")}
    if "beta1" in hp:
        kwargs["betas"] = (hp["beta1"], hp["beta2"])
    return getattr(torch.optim, cls_name)(params, **kwargs, **fixed, foreach=False)


def _plain_step(opt: torch.optim.Optimizer) -> Callable[[torch.optim.Optimizer], object]:
    """The optimizer's own step() without the wrappers torch puts around it (a profiler annotation, and a grad-mode
    switch with dynamo graph breaks: together about 40 us a call here). Used only when no step hooks are registered
    and the optimizer is not `differentiable`; the caller runs it under torch.no_grad(), as the wrapper would. The
    update and the state are exactly those of opt.step() (tested)."""
    inner = getattr(type(opt).step, "__wrapped__", None)  # profile_hook_step -> _use_grad
    hooks = opt._optimizer_step_pre_hooks or opt._optimizer_step_post_hooks  # noqa: SLF001
    if inner is None or hooks or _optim_module._global_optimizer_pre_hooks \
            or _optim_module._global_optimizer_post_hooks or opt.defaults.get("differentiable"):  # noqa: SLF001
        return type(opt).step
    return getattr(inner, "__wrapped__", inner)  # _use_grad -> the step body


def _check_start(start: tuple[float, float]) -> tuple[float, float]:
    """Two finite numbers, or LabError optim.bad_start."""
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise LabError("optim.bad_start", f"start={start!r}", value=str(start)) from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise LabError("optim.bad_start", f"start={start!r}", value=str(start))
    return x, y


def optimizer_path(surface: str, optimizer: str, start: tuple[float, float], steps: int,
                   **hyperparams: float) -> OptimPath:
    """Run `steps` real torch.optim steps from `start` on a named surface, recording what the optimizer saw and kept."""
    return race(surface, [(optimizer, hyperparams)], start, steps)[0]


def race(surface: str, runs: Sequence[tuple[str, Mapping[str, float]]], start: tuple[float, float],
         steps: int) -> list[OptimPath]:
    """Several optimizers from the same start, stepped together: one autograd pass gives every run its gradient."""
    if surface not in SURFACES:
        raise LabError("optim.unknown_surface", f"unknown surface {surface!r}", name=str(surface))
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        raise LabError("optim.bad_steps", f"steps={steps!r}", value=steps, max=MAX_STEPS)
    resolved = [(name, resolve_hyperparams(name, **hp)) for name, hp in runs]
    surf = SURFACES[surface]
    centre = torch.tensor([sum(surf.x_range) / 2, sum(surf.y_range) / 2], dtype=torch.float64)
    half = torch.tensor([(surf.x_range[1] - surf.x_range[0]) / 2, (surf.y_range[1] - surf.y_range[0]) / 2],
                        dtype=torch.float64)
    x0 = torch.tensor(_check_start(start), dtype=torch.float64)  # (2,)
    if ((x0 - centre).abs() > FAR * half).any():
        raise LabError("optim.bad_start", f"start={start!r} is far outside the surface", value=str(start))
    params = [x0.clone().requires_grad_(True) for _ in resolved]  # R leaves of shape (2,)
    opts = [make_optimizer(name, [p], hp) for (name, hp), p in zip(resolved, params)]
    steppers = [_plain_step(opt) for opt in opts]
    ones = torch.ones(len(params), dtype=torch.float64)  # d(sum of losses)/d(each loss)
    positions, losses, grads = [], [], []  # per step: (R, 2), (R,), R x (2,)
    states: list[dict[str, list[Tensor]]] = [{} for _ in params]
    for k in range(steps):
        with torch.no_grad():
            pos = torch.stack(params).requires_grad_(True)  # (R, 2) theta_k of every run, one leaf
        loss = surf.fn(*pos.unbind(1))  # (R,)
        g = torch.autograd.grad(loss, pos, ones)[0].unbind(0)  # row r: run r's gradient (its loss only uses row r)
        pos = pos.detach()
        positions.append(pos), losses.append(loss.detach()), grads.append(g)
        with torch.no_grad():
            for p, gp, opt, step, rec in zip(params, g, opts, steppers, states):
                p.grad = gp
                step(opt)
                for key, value in opt.state[p].items():
                    if key in STATE_KEYS and isinstance(value, torch.Tensor):
                        rec.setdefault(key, []).append(value.clone())
        if k % 25 == 24 and not _any_alive(pos, loss.detach(), centre, half):
            break
    with torch.no_grad():
        pos = torch.stack(params)
        positions.append(pos), losses.append(surf.fn(pos[:, 0], pos[:, 1]))
    all_pos, all_loss = torch.stack(positions), torch.stack(losses)  # (S+1, R, 2), (S+1, R)
    return [_one_path(surface, name, hp, all_pos[:, r], all_loss[:, r], [g[r] for g in grads], states[r], centre, half)
            for r, (name, hp) in enumerate(resolved)]


def _any_alive(pos: Tensor, loss: Tensor, centre: Tensor, half: Tensor) -> bool:
    """True while some run is finite and inside the far box."""
    ok = torch.isfinite(loss) & torch.isfinite(pos).all(1) & ((pos - centre).abs() <= FAR * half).all(1)
    return bool(ok.any())


def _one_path(surface: str, name: str, hp: dict[str, float], pos: Tensor, loss: Tensor, grads: list[Tensor],
              state: dict[str, list[Tensor]], centre: Tensor, half: Tensor) -> OptimPath:
    """One run's record, cut at its first non-finite value or its first position far outside the region."""
    bad = ~(torch.isfinite(pos).all(1) & torch.isfinite(loss))  # (S+1,)
    far = ~bad & ((pos - centre).abs() > FAR * half).any(1)
    j = int(bad.nonzero()[0]) if bad.any() else None  # first unusable position
    m = int(far.nonzero()[0]) if far.any() else None  # first far-away position
    n, diverged_at, reason = len(pos) - 1, None, None
    if m is not None and (j is None or m < j):
        n, diverged_at, reason = m, m, "far_away"
    elif j is not None:
        n, diverged_at, reason = j - 1, j, "non_finite"
    rec = {k: torch.stack(v[:n]) for k, v in state.items() if n > 0}
    if "exp_avg" in rec:
        t = torch.arange(1, n + 1, dtype=torch.float64)  # torch's step counter after each step
        bc1, bc2 = 1 - hp["beta1"] ** t, 1 - hp["beta2"] ** t  # (n,)
        rec.update(bias_correction1=bc1, bias_correction2=bc2, m_hat=rec["exp_avg"] / bc1[:, None],
                   v_hat=rec["exp_avg_sq"] / bc2[:, None])
    g = torch.stack(grads[:n]) if n else torch.zeros(0, 2, dtype=torch.float64)  # (n, 2)
    return OptimPath(surface, name, hp, pos[: n + 1], loss[: n + 1], g, pos[1 : n + 1] - pos[:n], rec,
                     diverged_at, reason)


def surface_grid(surface: str, points: int = 80) -> tuple[Tensor, Tensor, Tensor]:
    """The surface on a points x points grid over its region: xs (P,), ys (P,), z (P, P) indexed [y, x]."""
    surf = SURFACES[surface]
    xs = torch.linspace(*surf.x_range, points, dtype=torch.float64)
    ys = torch.linspace(*surf.y_range, points, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (P, P)
    return xs, ys, surf.fn(gx, gy)


def simplify(points: Tensor, tolerance: float, scale: tuple[float, float] = (1.0, 1.0)) -> Tensor:
    """Indices of the points (n, 2) a polyline keeps when every dropped point lies within `tolerance` of it
    (Ramer-Douglas-Peucker), distances measured after dividing x and y by `scale` (a plot's width and height, so the
    tolerance is a share of the picture). The first and last points are always kept; indices are sorted."""
    n = len(points)
    if n <= 2:
        return torch.arange(n)
    p = points.to(torch.float64) / torch.tensor(scale, dtype=torch.float64)  # (n, 2) in plot units
    keep = torch.zeros(n, dtype=torch.bool)
    keep[0] = keep[-1] = True
    todo = [(0, n - 1)]
    while todo:
        a, b = todo.pop()
        if b - a < 2:
            continue
        seg, mid = p[b] - p[a], p[a + 1 : b] - p[a]  # (2,), (b-a-1, 2)
        length = torch.linalg.vector_norm(seg)
        if length > 0:  # distance to the segment: perpendicular inside it, to the nearer end outside it
            along = (mid @ seg / length**2).clamp(0, 1)
            dist = torch.linalg.vector_norm(mid - along[:, None] * seg, dim=1)
        else:
            dist = torch.linalg.vector_norm(mid, dim=1)
        worst = int(dist.argmax())
        if dist[worst] > tolerance:
            k = a + 1 + worst
            keep[k] = True
            todo += [(a, k), (k, b)]
    return keep.nonzero().flatten()
