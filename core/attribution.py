"""Why did it say 7? Saliency, integrated gradients and occlusion (Captum) for one digit; what would change its mind."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
from captum.attr import IntegratedGradients, Occlusion, Saliency

from core.data import MEAN, STD
from core.errors import LabError

PAPER = (0.0 - MEAN) / STD  # blank paper after Normalize((0.5,), (0.5,)): -1; the baseline "no ink anywhere"
IG_STEPS = 32  # Gauss-Legendre points: completeness within about 1% on LeNet, in a few milliseconds
WINDOW, STRIDE = 4, 2  # occlusion: a 4x4 patch every 2 pixels, 13 x 13 positions over a 28x28 digit


@dataclass(frozen=True, eq=False)
class Explanation:
    """Attribution maps for one digit: why the predicted class, and what pushes towards the runner-up."""

    probs: torch.Tensor  # (10,) softmax of the logits
    predicted: int  # argmax
    runner_up: int  # the class the model would change its answer to: the second most probable
    saliency: torch.Tensor  # (H, W) |d logit[predicted] / d pixel|
    integrated: torch.Tensor  # (H, W) integrated gradients of logit[predicted] from the blank baseline
    occlusion: torch.Tensor  # (H, W) drop of logit[predicted] when a patch around the pixel is blanked (averaged)
    towards: torch.Tensor  # (H, W) integrated gradients of logit[runner_up] - logit[predicted]: > 0 pushes towards it
    completeness_gap: float  # sum(integrated) - (f(x) - f(baseline)): how far the integral is from exact
    baseline: float  # the pixel value of the blank picture the paths start from


class _Margin(nn.Module):
    """logit[a] - logit[b]: a scalar per sample, so attribution shows what favours a over b."""

    def __init__(self, model: nn.Module, a: int, b: int) -> None:
        super().__init__()
        self.model, self.a, self.b = model, a, b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) -> (N,)."""
        logits = self.model(x)  # (N, 10)
        return logits[:, self.a] - logits[:, self.b]


def _check(x: torch.Tensor) -> torch.Tensor:
    """One normalized digit (1, 1, H, W) as a float32 leaf, or a LabError."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or tuple(x.shape[:2]) != (1, 1) or not x.is_floating_point():
        raise LabError("attr.bad_input", shape=list(getattr(x, "shape", [])))
    if not torch.isfinite(x).all():
        raise LabError("attr.not_finite")
    return x.detach().float().clone()


def saliency(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """|d logit[target] / d x| for a (1, 1, H, W) input: (H, W)."""
    return Saliency(model).attribute(_check(x).requires_grad_(), target=target, abs=True)[0, 0].detach()


def integrated_gradients(model: nn.Module, x: torch.Tensor, target: int | None, baseline: float = PAPER,
                         n_steps: int = IG_STEPS) -> tuple[torch.Tensor, float]:
    """Integrated gradients along the straight path from a blank picture to x: ((H, W) map, completeness gap)."""
    attr, delta = IntegratedGradients(model).attribute(_check(x), baselines=baseline, target=target, n_steps=n_steps,
                                                       return_convergence_delta=True)
    return attr[0, 0].detach(), float(delta[0])


def occlusion(model: nn.Module, x: torch.Tensor, target: int, baseline: float = PAPER, window: int = WINDOW,
              stride: int = STRIDE) -> torch.Tensor:
    """logit[target] minus its value with a window x window patch blanked, averaged over the patches: (H, W)."""
    attr = Occlusion(model).attribute(_check(x), sliding_window_shapes=(1, window, window), strides=(1, stride, stride),
                                      baselines=baseline, target=target, perturbations_per_eval=64)
    return attr[0, 0].detach()


def explain(model: nn.Module, x: torch.Tensor, baseline: float = PAPER, n_steps: int = IG_STEPS) -> Explanation:
    """All three maps for the predicted class, and integrated gradients towards the runner-up; model in eval mode."""
    x = _check(x)
    with torch.no_grad():
        probs = torch.softmax(model(x)[0], dim=0)  # (10,)
    top2 = probs.topk(2).indices.tolist()
    predicted, runner_up = top2[0], top2[1]
    integrated, gap = integrated_gradients(model, x, predicted, baseline, n_steps)
    towards, _ = integrated_gradients(_Margin(model, runner_up, predicted), x, None, baseline, n_steps)
    return Explanation(probs, predicted, runner_up, saliency(model, x, predicted), integrated,
                       occlusion(model, x, predicted, baseline), towards, gap, baseline)
