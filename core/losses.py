"""Softmax and cross-entropy, step by step, on real tensors; the classic pitfalls measured."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.errors import LabError

MAX_CLASSES = 10  # a digit classifier has 10; more bars stop being readable


@dataclass(frozen=True)
class SoftmaxBreakdown:
    """Every intermediate of the stable softmax of one row of logits."""

    logits: torch.Tensor  # (C,) as given
    temperature: float
    scaled: torch.Tensor  # (C,) logits / temperature
    shift: float  # max(scaled), subtracted so no exponential overflows
    shifted: torch.Tensor  # (C,) scaled - shift, all <= 0
    exps: torch.Tensor  # (C,) exp(shifted), all in (0, 1]
    total: float  # exps.sum()
    probs: torch.Tensor  # (C,) exps / total


@dataclass(frozen=True)
class CrossEntropyBreakdown:
    """Cross-entropy of one sample: -log p[target] and its gradient with respect to the logits."""

    softmax: SoftmaxBreakdown
    target: int
    p_target: float
    loss: float  # -log p[target], from log-sum-exp (finite even when p[target] underflows to 0)
    one_hot: torch.Tensor  # (C,)
    grad: torch.Tensor  # (C,) dL/dlogits by autograd; equals (p - one_hot) / temperature


@dataclass(frozen=True)
class BatchCrossEntropy:
    """Cross-entropy of a batch, per sample and reduced, with the gradient of the mean."""

    logits: torch.Tensor  # (N, C)
    labels: torch.Tensor  # (N,)
    probs: torch.Tensor  # (N, C)
    per_sample: torch.Tensor  # (N,) = reduction="none"
    mean: float  # = nn.CrossEntropyLoss()
    grad: torch.Tensor  # (N, C) d mean / d logits by autograd = (p - one_hot) / N


def _check_logits(logits: torch.Tensor | list[float]) -> torch.Tensor:
    """A finite float tensor of logits, or a LabError."""
    z = torch.as_tensor(logits, dtype=torch.float64 if isinstance(logits, list) else None).detach()
    if z.numel() == 0 or z.shape[-1] == 0:
        raise LabError("loss.empty_logits")
    if not torch.is_floating_point(z):
        z = z.double()
    if not torch.isfinite(z).all():
        raise LabError("loss.not_finite")
    return z


def _check_temperature(temperature: float) -> float:
    """A positive, finite temperature, or a LabError."""
    if not (math.isfinite(temperature) and temperature > 0):
        raise LabError("loss.bad_temperature", temperature=temperature)
    return float(temperature)


def _check_target(target: int, num_classes: int) -> int:
    """A class index in [0, num_classes), or a LabError."""
    if isinstance(target, float) and not float(target).is_integer():  # NaN, 1.7: not a class
        raise LabError("loss.bad_target", target=target, last=num_classes - 1)
    if not 0 <= int(target) < num_classes:
        raise LabError("loss.bad_target", target=int(target), last=num_classes - 1)
    return int(target)


def parse_logits(text: str, min_classes: int = 2, max_classes: int = MAX_CLASSES) -> torch.Tensor:
    """Comma- (or space-) separated numbers -> float64 tensor (C,); every problem is a LabError."""
    tokens = [tok for tok in text.replace("，", ",").replace(";", ",").replace(" ", ",").split(",") if tok.strip()]
    if not tokens:
        raise LabError("loss.empty_logits")
    values = []
    for tok in tokens:
        try:
            values.append(float(tok))
        except ValueError:
            raise LabError("loss.unparseable", token=tok.strip()) from None
    if len(values) < min_classes or len(values) > max_classes:
        raise LabError("loss.class_count", n=len(values), low=min_classes, high=max_classes)
    return _check_logits(values)


def softmax_breakdown(logits: torch.Tensor | list[float], temperature: float = 1.0) -> SoftmaxBreakdown:
    """Stable softmax of one row of logits (C,), every step kept: scale, shift by the max, exp, sum, divide."""
    z = _check_logits(logits).flatten()
    temp = _check_temperature(temperature)
    scaled = z / temp
    if not torch.isfinite(scaled).all():  # e.g. 1e308 / 0.5: finite logits, infinite once divided by T
        raise LabError("loss.not_finite")
    shift = scaled.max()
    shifted = scaled - shift
    exps = shifted.exp()
    total = exps.sum()
    return SoftmaxBreakdown(z, temp, scaled, float(shift), shifted, exps, float(total), exps / total)


def naive_softmax(logits: torch.Tensor | list[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """exp(z) / sum(exp(z)) without the shift, in float32 as a network computes it: (exps, probs); may be inf/nan."""
    z = _check_logits(logits).flatten().float()
    exps = z.exp()
    return exps, exps / exps.sum()


def one_hot(labels: torch.Tensor | list[int] | int, num_classes: int) -> torch.Tensor:
    """Class indices (N,) -> rows with a single 1 (N, num_classes), as float."""
    idx = torch.as_tensor(labels, dtype=torch.long)
    if num_classes < 1:
        raise LabError("loss.empty_logits")
    if idx.numel() and (idx.min() < 0 or idx.max() >= num_classes):
        bad = int(idx[(idx < 0) | (idx >= num_classes)][0])
        raise LabError("loss.bad_target", target=bad, last=num_classes - 1)
    return F.one_hot(idx, num_classes).float()


def cross_entropy_breakdown(logits: torch.Tensor | list[float], target: int,
                            temperature: float = 1.0) -> CrossEntropyBreakdown:
    """Cross-entropy of one sample with its true class; the gradient comes from autograd."""
    sm = softmax_breakdown(logits, temperature)
    tgt = _check_target(target, sm.logits.numel())
    z = sm.logits.clone().requires_grad_(True)
    loss = torch.logsumexp(z / sm.temperature, 0) - z[tgt] / sm.temperature  # = -log softmax(z/T)[tgt]
    (grad,) = torch.autograd.grad(loss, z)
    return CrossEntropyBreakdown(sm, tgt, float(sm.probs[tgt]), float(loss.detach()), one_hot(tgt, z.numel()).to(z.dtype),
                                 grad)


def batch_cross_entropy(logits: torch.Tensor | list[list[float]], labels: torch.Tensor | list[int]) -> BatchCrossEntropy:
    """Cross-entropy of a batch (N, C) with class indices (N,): per sample, mean, and the mean's gradient."""
    z = _check_logits(logits)
    if z.dim() != 2:
        raise LabError("loss.bad_shape", shape=list(z.shape))
    y = torch.as_tensor(labels, dtype=torch.long).flatten()
    if y.numel() != z.shape[0]:
        raise LabError("loss.label_count", n=y.numel(), rows=z.shape[0])
    for label in y.tolist():
        _check_target(label, z.shape[1])
    z = z.clone().requires_grad_(True)
    per_sample = torch.logsumexp(z, 1) - z.gather(1, y[:, None])[:, 0]  # (N,)
    mean = per_sample.mean()
    (grad,) = torch.autograd.grad(mean, z)
    return BatchCrossEntropy(z.detach(), y, z.detach().softmax(1), per_sample.detach(), float(mean.detach()), grad)


@dataclass(frozen=True)
class DoubleSoftmax:
    """The pitfall of feeding probabilities to CrossEntropyLoss, which applies softmax again."""

    correct_loss: float  # F.cross_entropy(logits, target)
    wrong_loss: float  # F.cross_entropy(softmax(logits), target)
    floor: float  # the smallest loss the wrong version can ever reach: -log(e / (e + C - 1))
    correct_grad_norm: float
    wrong_grad_norm: float


def double_softmax(logits: torch.Tensor | list[float], target: int) -> DoubleSoftmax:
    """Both losses and gradient norms, measured with torch's own F.cross_entropy."""
    z0 = _check_logits(logits).flatten()
    tgt = _check_target(target, z0.numel())
    out = []
    for wrong in (False, True):
        z = z0.clone().requires_grad_(True)
        inp = z.softmax(0) if wrong else z
        loss = F.cross_entropy(inp[None], torch.tensor([tgt]))
        (grad,) = torch.autograd.grad(loss, z)
        out += [float(loss.detach()), float(grad.norm())]
    c = z0.numel()
    return DoubleSoftmax(out[0], out[2], -math.log(math.e / (math.e + c - 1)), out[1], out[3])


@dataclass(frozen=True)
class LabelFormats:
    """CrossEntropyLoss with class indices, with float one-hot rows, and what happens with integer one-hot rows."""

    with_indices: float
    with_one_hot_float: float
    one_hot_long_error: str | None  # torch's own message, or None if torch accepted it


def label_formats(logits: torch.Tensor | list[list[float]], labels: torch.Tensor | list[int]) -> LabelFormats:
    """Measure the three ways of passing labels to F.cross_entropy on a batch (N, C)."""
    z = batch_cross_entropy(logits, labels).logits  # validates
    y = torch.as_tensor(labels, dtype=torch.long).flatten()
    hot = one_hot(y, z.shape[1])
    try:
        F.cross_entropy(z, hot.long())
        error = None
    except (RuntimeError, ValueError) as exc:
        error = str(exc).splitlines()[0]
    return LabelFormats(float(F.cross_entropy(z, y)), float(F.cross_entropy(z, hot.to(z.dtype))), error)


def torch_reference_loss(logits: torch.Tensor | list[float], target: int, temperature: float = 1.0) -> float:
    """What nn.CrossEntropyLoss itself returns for one sample (logits divided by the temperature)."""
    z = _check_logits(logits).flatten()
    tgt = _check_target(target, z.numel())
    return float(torch.nn.CrossEntropyLoss()(z[None] / _check_temperature(temperature), torch.tensor([tgt])))


def torch_reference_batch(logits: torch.Tensor | list[list[float]], labels: torch.Tensor | list[int]) -> float:
    """What nn.CrossEntropyLoss() (mean reduction) itself returns for a batch (N, C) with class indices (N,)."""
    batch = batch_cross_entropy(logits, labels)  # same checks as ours
    return float(torch.nn.CrossEntropyLoss()(batch.logits, batch.labels))


def naive_cross_entropy(logits: torch.Tensor | list[float], target: int) -> float:
    """-log of the naive softmax's probability of the target: inf or nan when the exponentials overflow."""
    _, probs = naive_softmax(logits)
    tgt = _check_target(target, probs.numel())
    return float(-torch.log(probs[tgt]))


@dataclass(frozen=True)
class LossSweep:
    """Cross-entropy against MSE on the softmax probabilities, while the true class's logit sweeps (others fixed):
    why classification uses cross-entropy and leaves MSE to regression."""

    true_logit: torch.Tensor  # (K,) the swept logit of the true class
    p_true: torch.Tensor  # (K,) softmax probability of the true class
    ce: torch.Tensor  # (K,) F.cross_entropy
    mse: torch.Tensor  # (K,) F.mse_loss(softmax(z), one_hot), mean over the classes as nn.MSELoss does
    ce_grad: torch.Tensor  # (K,) d CE / d z_true, by autograd
    mse_grad: torch.Tensor  # (K,) d MSE / d z_true, by autograd


def ce_vs_mse(logits: torch.Tensor | list[float], target: int, low: float = -10.0, high: float = 10.0,
              points: int = 201) -> LossSweep:
    """Both losses and their gradients on the true logit, for `points` values of it from low to high."""
    z0 = _check_logits(logits).flatten().double()
    tgt = _check_target(target, z0.numel())
    sweep = torch.linspace(low, high, points, dtype=torch.float64)
    z = z0.repeat(points, 1)  # (K, C): one row per value of the true logit
    z[:, tgt] = sweep
    z.requires_grad_(True)
    labels = torch.full((points,), tgt)
    ce = F.cross_entropy(z, labels, reduction="none")  # (K,)
    mse = F.mse_loss(z.softmax(1), one_hot(labels, z0.numel()).double(), reduction="none").mean(1)  # (K,)
    (ce_grad,) = torch.autograd.grad(ce.sum(), z)  # rows are independent: the sum's gradient is each row's
    (mse_grad,) = torch.autograd.grad(mse.sum(), z)
    return LossSweep(sweep, z.detach().softmax(1)[:, tgt], ce.detach(), mse.detach(), ce_grad[:, tgt], mse_grad[:, tgt])
