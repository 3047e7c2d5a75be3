"""Benchmark: the core work behind the activations and softmax pages, on the inputs those pages use.

    .venv/bin/python -m bench.bench_losses
Median and best of several repeats, in milliseconds. The machine is shared with other engineers: numbers are noisy.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from bench.bench_conv import timed  # noqa: E402
from core.activations import deep_stack, evaluate, feature_map, lenet_dead_fraction, stack_gradients  # noqa: E402
from core.data import load_digits, to_model_input  # noqa: E402
from core.lenet import LeNetConfig, build_lenet  # noqa: E402
from core.losses import (batch_cross_entropy, cross_entropy_breakdown, double_softmax, label_formats,  # noqa: E402
                         parse_logits)

BATCH = [[1.2, 0.8, 2.1, 0.5], [0.2, 2.5, 0.3, 1.0], [1.5, 0.2, 0.3, 3.1]]


def run(repeats: int = 7) -> dict[str, float]:
    """Milliseconds for each piece of core work one rerun of the two pages does."""
    data = load_digits()
    xb, yb = to_model_input(data.test_images[:64]).flatten(1), data.test_labels[:64]  # (64, 784)
    digits = to_model_input(data.test_images[:256])  # (256, 1, 28, 28)
    tanh_net, relu_net = build_lenet().eval(), build_lenet(LeNetConfig(activation="relu")).eval()
    x = torch.linspace(-5, 5, 401)
    cases: dict[str, Callable[[], object]] = {
        "7 activation curves, 401 points each": lambda: [evaluate(n, x) for n in
                                                        ("tanh", "sigmoid", "relu", "leaky_relu", "elu", "gelu", "silu")],
        "conv1 feature map + activation": lambda: feature_map(tanh_net, digits[:1], "relu"),
        "3 deep stacks, depth 12, build + backward": lambda: [stack_gradients(deep_stack(n, 12), xb, yb)
                                                             for n in ("tanh", "relu", "sigmoid")],
        "3 deep stacks, depth 30, build + backward": lambda: [stack_gradients(deep_stack(n, 30), xb, yb)
                                                             for n in ("tanh", "relu", "sigmoid")],
        "dead units, LeNet on 256 digits": lambda: lenet_dead_fraction(relu_net, digits, -1.0),
        "parse + cross-entropy breakdown (10 classes)": lambda: cross_entropy_breakdown(
            parse_logits("0.3, -1.2, 4.1, 0.8, -0.5, 1.9, 0.0, 2.7, -2.2, 1.1"), 3, 1.5),
        "course batch + pitfalls": lambda: (batch_cross_entropy(BATCH, [2, 1, 3]), label_formats(BATCH, [2, 1, 3]),
                                            double_softmax([2.0, 1.0, 0.1], 0)),
    }
    out: dict[str, float] = {}
    for name, fn in cases.items():
        best, median = timed(fn, repeats)
        out[f"{name}, best (ms)"] = best
        out[f"{name}, median (ms)"] = median
    out["torch threads"] = float(torch.get_num_threads())
    return out


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value:.2f}")
