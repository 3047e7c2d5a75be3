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


def run(seeds: tuple[int, ...] = (0, 1, 2), epochs: int = 10, patience: int = 2) -> dict[str, object]:
    """Per seed: the accuracy after each of 10 epochs (first epoch at 96%, final, best) and, as the training page
    runs it with early stopping, the accuracy of the weights it keeps. 'meets_96' is the issue's target: every
    seed reaches 96% within 10 epochs; 'final_epoch_all_96' is the stricter reading (the 10th epoch itself)."""
    data = load_digits()
    out: dict[str, object] = {"test_digits": len(data.test_labels), "train_digits": len(data.train_labels)}
    finals, reached, kept = [], [], []
    for seed in seeds:
        started = time.perf_counter()
        config = TrainConfig(activation="relu", optimizer="adam", lr=1e-3, epochs=epochs, seed=seed)
        epochs_run, done = run_to_end(config, data)
        assert done.reason == "finished"
        first = next((e.epoch for e in epochs_run if e.test_acc >= TARGET), None)
        finals.append(epochs_run[-1].test_acc)
        reached.append(first is not None)
        out[f"seed{seed}_final_test_acc"] = epochs_run[-1].test_acc
        out[f"seed{seed}_best_test_acc"] = max(e.test_acc for e in epochs_run)
        out[f"seed{seed}_first_epoch_reaching_96"] = first if first is not None else "never"
        out[f"seed{seed}_seconds"] = round(time.perf_counter() - started, 2)
        stopped, done = run_to_end(config.but(patience=patience), data)  # what the page keeps with early stopping
        held = next(e for e in stopped if e.epoch == done.best_epoch)
        kept.append(held.test_acc)
        out[f"seed{seed}_patience{patience}_kept_epoch"] = done.best_epoch
        out[f"seed{seed}_patience{patience}_kept_test_acc"] = held.test_acc
    out["mean_final_test_acc"] = statistics.mean(finals)
    out["min_final_test_acc"] = min(finals)
    out[f"min_kept_test_acc_patience{patience}"] = min(kept)
    out["meets_96"] = all(reached)
    out["final_epoch_all_96"] = min(finals) >= TARGET
    return out


if __name__ == "__main__":
    torch.set_num_threads(2)
    for key, value in run().items():
        print(f"{key:32s} {value:.4f}" if isinstance(value, float) else f"{key:32s} {value}")
