"""The course's update formulas evaluated by hand for an optimizer's first step, next to what torch.optim did."""
from __future__ import annotations

import math
from dataclasses import dataclass

from core.optim_paths import OptimPath


@dataclass(frozen=True)
class FirstStep:
    """Step 1 of one coordinate written out: every term a page puts into the formula, and both results."""

    optimizer: str
    theta0: float  # the coordinate before the step
    grad: float  # autograd's gradient there
    decay: float  # weight decay λ (0 when off)
    decoupled: bool  # AdamW: θ shrinks by (1 - ηλ) itself instead of λθ being added to the gradient
    grad_used: float  # g' = g + λθ with coupled decay, else g
    terms: dict[str, float]  # by torch's state names: momentum_buffer, exp_avg, exp_avg_sq, m_hat, v_hat,
    #                          square_avg, sum; "momentum_buffer_2" is b after step 2 when there is one
    grad_used_2: float | None  # g' of step 2, which feeds b_2 (momentum only)
    base: float  # θ before the gradient move: θ0(1 - ηλ) for AdamW, else θ0
    theta1: float  # the formula's result
    torch_theta1: float  # what the real optimizer produced


def first_step(path: OptimPath, coord: int = 0) -> FirstStep | None:
    """Evaluate step 1 of `path` for coordinate `coord` (0: x, 1: y) from the written formulas; None without steps."""
    if path.steps == 0:
        return None
    hp, name = path.hyperparams, path.optimizer
    lr, lam = hp["lr"], hp.get("weight_decay", 0.0)
    x0, g = path.positions[0, coord].item(), path.grads[0, coord].item()
    decoupled = name == "adamw"
    g1 = g if decoupled else g + lam * x0  # torch adds λθ to the gradient (L2) except in AdamW
    base = x0 * (1 - lr * lam) if decoupled else x0
    terms: dict[str, float] = {}
    g2: float | None = None
    if name in ("adam", "adamw"):
        b1, b2, eps = hp["beta1"], hp["beta2"], hp["eps"]
        m, v = (1 - b1) * g1, (1 - b2) * g1**2  # m_0 = v_0 = 0
        terms.update(exp_avg=m, exp_avg_sq=v, m_hat=m / (1 - b1), v_hat=v / (1 - b2))
        x1 = base - lr * terms["m_hat"] / (math.sqrt(terms["v_hat"]) + eps)
    elif name == "rmsprop":
        s = (1 - hp["alpha"]) * g1**2  # s_0 = 0
        terms["square_avg"] = s
        x1 = x0 - lr * g1 / (math.sqrt(s) + hp["eps"])
    elif name == "adagrad":
        terms["sum"] = g1**2  # the sum of squared gradients starts at 0
        x1 = x0 - lr * g1 / (math.sqrt(terms["sum"]) + hp["eps"])
    elif hp.get("momentum", 0.0) > 0:  # SGD with momentum, or Nesterov
        mu = hp["momentum"]
        terms["momentum_buffer"] = g1  # torch starts the buffer at the first gradient: b_1 = g_1
        x1 = x0 - lr * (g1 + mu * g1 if name == "nesterov" else g1)
        if path.steps > 1:
            g2 = path.grads[1, coord].item() + lam * path.positions[1, coord].item()
            terms["momentum_buffer_2"] = mu * g1 + g2
    else:  # plain SGD: θ ← θ − η g
        x1 = x0 - lr * g1
    return FirstStep(name, x0, g, lam, decoupled, g1, terms, g2, base, x1, path.positions[1, coord].item())
