"""Mini-batch noise on a real problem: 2-weight logistic regression telling two digit classes apart."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.errors import LabError
from core.optim_paths import make_optimizer, resolve_hyperparams

Tensor = torch.Tensor

PAIRS = {"1-7": (1, 7), "4-9": (4, 9), "0-6": (0, 6), "3-8": (3, 8), "0-1": (0, 1)}  # 0-1 is almost separable
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
NOISE_STEPS = 150
DEFAULT_BATCH, DEFAULT_LR = 4, 0.5  # the optimizers page's noise section opens on these


@dataclass(frozen=True, eq=False)
class BatchPath:
    """The two weights after each step, the loss on ALL the digits there, and the loss the step's batch saw."""

    batch_size: int
    n_data: int  # digits in the training set (one epoch)
    positions: Tensor  # (n+1, 2) weights w_0 .. w_n
    full_losses: Tensor  # (n+1,) loss over every digit at w_k
    batch_losses: Tensor  # (n,) loss of the batch used by step k (what the optimizer saw)
    diverged_at: int | None  # first step with a non-finite weight, else None

    @property
    def steps(self) -> int:
        """Number of recorded steps n."""
        return len(self.positions) - 1

    @property
    def examples_seen(self) -> int:
        """Per-digit gradients computed: steps x batch size (the cost of the run)."""
        return self.steps * self.batch_size

    @property
    def epochs(self) -> float:
        """Passes over the data that cost amounts to."""
        return self.examples_seen / self.n_data


def digit_features(images: Tensor, labels: Tensor, classes: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Two standardised features of each digit of two classes, amount of ink and width; targets 0 (first) / 1."""
    a, b = classes
    if a == b or not all(0 <= c <= 9 for c in (a, b)):
        raise LabError("optim.bad_classes", f"classes={classes}", a=a, b=b)
    keep = (labels == a) | (labels == b)
    x = images[keep].to(torch.float64) / 255.0  # (N, 28, 28)
    ink = x.mean((1, 2))  # (N,)
    col_mass = x.sum(1)  # (N, 28): ink in each column
    cols = torch.arange(28, dtype=torch.float64)
    total = col_mass.sum(1).clamp_min(1e-12)
    centre = (col_mass * cols).sum(1) / total
    width = ((col_mass * (cols - centre[:, None]) ** 2).sum(1) / total).sqrt()  # spread of ink left-right
    feats = torch.stack([ink, width], 1)  # (N, 2)
    feats = (feats - feats.mean(0)) / feats.std(0).clamp_min(1e-12)
    return feats, (labels[keep] == b).to(torch.float64)


def logistic_loss(w: Tensor, feats: Tensor, targets: Tensor) -> Tensor:
    """Mean binary cross-entropy of sigmoid(feats @ w); w may be (2,) or a grid (..., 2)."""
    z = w @ feats.T if w.dim() == 1 else torch.einsum("...k,nk->...n", w, feats)  # (..., N)
    return F.binary_cross_entropy_with_logits(z, targets.expand_as(z), reduction="none").mean(-1)


def minibatch_path(feats: Tensor, targets: Tensor, batch_size: int, steps: int, seed: int,
                   optimizer: str = "sgd", start: tuple[float, float] = (-2.0, 2.0), **hyperparams: float) -> BatchPath:
    """Train the two weights with a real torch.optim optimizer on shuffled mini-batches (seeded epochs)."""
    n_data = len(targets)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= n_data:
        raise LabError("optim.bad_batch", f"batch_size={batch_size}", value=batch_size, n=n_data)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 5000:
        raise LabError("optim.bad_steps", f"steps={steps!r}", value=steps, max=5000)
    hp = resolve_hyperparams(optimizer, **hyperparams)
    if not all(math.isfinite(float(v)) for v in start):
        raise LabError("optim.bad_start", f"start={start!r}", value=str(start))
    w = torch.tensor([float(v) for v in start], dtype=torch.float64, requires_grad=True)  # (2,)
    opt = make_optimizer(optimizer, [w], hp)
    gen = torch.Generator().manual_seed(seed)
    order, cursor = torch.randperm(n_data, generator=gen), 0
    positions, batch_losses, diverged_at = [w.detach().clone()], [], None
    for k in range(1, steps + 1):
        if cursor + batch_size > n_data:  # a new epoch: reshuffle, drop the incomplete tail
            order, cursor = torch.randperm(n_data, generator=gen), 0
        idx = order[cursor : cursor + batch_size]
        cursor += batch_size
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(feats[idx] @ w, targets[idx])
        loss.backward()
        opt.step()
        batch_losses.append(loss.detach())
        if not torch.isfinite(w).all():
            diverged_at = k
            break
        positions.append(w.detach().clone())
    pos = torch.stack(positions)  # (n+1, 2)
    with torch.no_grad():
        full = logistic_loss(pos, feats, targets)  # (n+1,)
    return BatchPath(batch_size, n_data, pos, full, torch.stack(batch_losses[: len(pos) - 1]) if len(pos) > 1
                     else torch.zeros(0, dtype=torch.float64), diverged_at)


def loss_grid(feats: Tensor, targets: Tensor, paths: list[BatchPath], points: int = 60,
              margin: float = 0.15) -> tuple[Tensor, Tensor, Tensor]:
    """The full-data loss on a grid covering every path: xs (P,), ys (P,), z (P, P) indexed [y, x]."""
    allpos = torch.cat([p.positions for p in paths])  # (M, 2)
    lo, hi = allpos.min(0).values, allpos.max(0).values
    pad = (hi - lo).clamp_min(1.0) * margin
    xs = torch.linspace(float(lo[0] - pad[0]), float(hi[0] + pad[0]), points, dtype=torch.float64)
    ys = torch.linspace(float(lo[1] - pad[1]), float(hi[1] + pad[1]), points, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, logistic_loss(torch.stack([gx, gy], -1), feats, targets)  # (P, P)
