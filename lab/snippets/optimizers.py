"""Code panel of the optimizer page: a plain PyTorch script that reproduces one racer's path."""
from __future__ import annotations

from core.optim_paths import OPTIMIZERS

FORMULAS = {
    "bowl": "0.02 * x**2 + 2.0 * y**2",
    "rosenbrock": "(1 - x) ** 2 + 100 * (y - x**2) ** 2",
    "beale": "(1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2",
    "himmelblau": "(x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2",
    "saddle": "x**2 + (y**2 - 1) ** 2",
}


def path_script(surface: str, optimizer: str, hyperparams: dict[str, float], start: tuple[float, float],
                steps: int) -> str:
    """A runnable script: the same optimizer, settings and start; `result` is the last position [x, y]."""
    cls, fixed, _ = OPTIMIZERS[optimizer]
    args = [f"lr={hyperparams['lr']!r}"]
    args += [f"{k}={v!r}" for k, v in hyperparams.items() if k not in ("lr", "beta1", "beta2")]
    if "beta1" in hyperparams:
        args.append(f"betas=({hyperparams['beta1']!r}, {hyperparams['beta2']!r})")
    args += [f"{k}={v!r}" for k, v in fixed.items()]
    return f'''import torch

def f(x, y):  # the "{surface}" surface
    return {FORMULAS[surface]}

theta = torch.tensor([{start[0]!r}, {start[1]!r}], dtype=torch.float64, requires_grad=True)
optimizer = torch.optim.{cls}([theta], {", ".join(args)})
for step in range({steps}):
    optimizer.zero_grad()
    loss = f(theta[0], theta[1])
    loss.backward()          # gradient by autograd
    optimizer.step()         # theta moves; the optimizer keeps its state in optimizer.state[theta]
    if not torch.isfinite(theta).all():
        print("diverged at step", step + 1)
        break
print(step + 1, "steps:", theta.tolist(), "loss", f(theta[0], theta[1]).item())
print(optimizer.state[theta].keys())
result = theta.detach().tolist()
'''
