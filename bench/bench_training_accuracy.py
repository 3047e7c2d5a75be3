"""Benchmark (a): ReLU + Adam on the embedded digits reaches at least 96% held-out accuracy within 10 epochs.

    .venv/bin/python -m bench.bench_training_accuracy
Trains with core.training directly (the same generator the app's workers run), 3 seeds. The machine is shared:
times are pessimistic, accuracies are not affected.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.data import load_digits  # noqa: E402
from core.training import TrainConfig, run_to_end  # noqa: E402

TARGET = 0.96


def run(seeds: tuple[int, ...] = (0, 1, 2), epochs: int = 10) -> dict[str, object]:
    """Final and best held-out accuracy per seed; 'meets_96' is True only if every seed's final accuracy does."""
    data = load_digits()
    out: dict[str, object] = {"test_digits": len(data.test_labels), "train_digits": len(data.train_labels)}
    finals = []
    for seed in seeds:
        started = time.perf_counter()
        epochs_run, done = run_to_end(TrainConfig(activation="relu", optimizer="adam", lr=1e-3, epochs=epochs,
                                                  seed=seed), data)
        finals.append(epochs_run[-1].test_acc)
        out[f"seed{seed}_final_test_acc"] = epochs_run[-1].test_acc
        out[f"seed{seed}_best_test_acc"] = max(e.test_acc for e in epochs_run)
        out[f"seed{seed}_first_epoch_reaching_96"] = next((e.epoch for e in epochs_run if e.test_acc >= TARGET), "never")
        out[f"seed{seed}_seconds"] = round(time.perf_counter() - started, 2)
        assert done.reason == "finished"
    out["mean_final_test_acc"] = statistics.mean(finals)
    out["min_final_test_acc"] = min(finals)
    out["meets_96"] = min(finals) >= TARGET
    return out


if __name__ == "__main__":
    torch.set_num_threads(2)
    for key, value in run().items():
        print(f"{key:32s} {value:.4f}" if isinstance(value, float) else f"{key:32s} {value}")
