"""Pre-train the training page's demo runs before class, so the page shows them at once (loaded from disk).

    .venv/bin/python scripts/pretrain.py                      # every preset (the 2x2 grid covers them all)
    .venv/bin/python scripts/pretrain.py --presets tanh_relu  # only tanh vs ReLU (the page's default comparison)
    LENET_CACHE_DIR=/srv/lenet .venv/bin/python scripts/pretrain.py --epochs 10

The runs are the page's own: its default settings (app_pages/training.py) expanded by core.training.preset_configs,
trained and saved by the app's own JobManager and CheckpointStore, so the file names (run keys) and format are the
ones the app looks for. Runs already saved are skipped. Settings that differ from the page's defaults (--epochs,
--train-size) make other runs: the page finds them only when a link sets the same values (?tr_ep=..., ?tr_n=...).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRESET_NAMES = {"tanh_relu": "activation", "activation": "activation", "sgd_adam": "optimizer",
                "optimizer": "optimizer", "grid": "grid"}
WAIT_SECONDS = 1800  # per run: a bound, not an estimate (10 epochs of 4,000 digits take a few seconds)


def page_base_config(dataset: str, epochs: int | None = None, train_size: int | None = None):
    """The TrainConfig the training page builds from its untouched controls, on this dataset."""
    from core.training import TrainConfig

    base = TrainConfig(dataset=dataset)  # the page's widget defaults are TrainConfig's defaults
    changes = {k: v for k, v in (("epochs", epochs), ("train_size", train_size)) if v is not None}
    return base.but(**changes) if changes else base


def configs_for(presets: list[str], base) -> list:
    """The runs of the chosen presets, duplicates merged (the grid contains both comparisons)."""
    from core.training import preset_configs

    runs = [cfg for name in presets for cfg in preset_configs(base, PRESET_NAMES[name])]
    return list(dict.fromkeys(runs))


def parse(argv: list[str] | None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="all", help="all, or a comma list of tanh_relu, sgd_adam, grid")
    ap.add_argument("--epochs", type=int, default=None, help="default: the page's (10)")
    ap.add_argument("--train-size", type=int, default=None, help="default: the page's (4000)")
    ap.add_argument("--dataset", choices=("auto", "embedded", "mnist"), default="auto",
                    help="auto: what the page offers first (full MNIST when LENET_MNIST_DIR is readable)")
    ap.add_argument("--cache-dir", default=None, help="default: LENET_CACHE_DIR, else .lenet-cache/")
    args = ap.parse_args(argv)
    names = ["grid"] if args.presets == "all" else [p.strip() for p in args.presets.split(",") if p.strip()]
    unknown = [p for p in names if p not in PRESET_NAMES]
    if unknown or not names:
        ap.error(f"unknown preset {unknown or args.presets!r}; choose from all, {', '.join(sorted(PRESET_NAMES))}")
    return args, names


def main(argv: list[str] | None = None) -> int:
    args, presets = parse(argv)
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # the app's caches, used outside a server
    import torch

    from core.checkpoint import REASONS
    from lab import cache
    from runtime.checkpoints import CheckpointStore
    from runtime.jobs import JobManager

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # streamlit sets its loggers up again on import
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)
    torch.set_num_threads(cache.settings().threads)
    folder = Path(args.cache_dir) if args.cache_dir else cache.settings().cache_dir
    dataset = args.dataset if args.dataset != "auto" else ("mnist" if cache.mnist_available() else "embedded")
    if dataset == "mnist" and not cache.mnist_available():
        print("full MNIST is not available (set LENET_MNIST_DIR to a readable MNIST folder)", file=sys.stderr)
        return 2
    available = len(cache.dataset(dataset).train_labels)
    train_size = min(args.train_size or 4000, available // 100 * 100 or available)
    base = page_base_config(dataset, args.epochs, train_size)
    mgr = JobManager(cache.dataset, 1, CheckpointStore(folder))  # trains here, saves as the app does
    print(f"checkpoints in {folder} · dataset {dataset} · {torch.get_num_threads()} torch threads")
    failures = 0
    for cfg in configs_for(presets, base):
        label = cfg.run_label
        view = mgr.view(cfg)  # from disk when already saved
        if view is not None and view.from_disk and view.usable:
            print(f"skip    {label}: already saved, test accuracy {view.epochs[-1].test_acc:.1%} "
                  f"-> {mgr.store.path(view.key)}")
            continue
        started = time.perf_counter()
        job = mgr.submit(cfg)
        if job.thread is not None:
            job.thread.join(WAIT_SECONDS)
        view = mgr.view(cfg)
        if view is None or view.active or view.done is None:
            print(f"FAILED {label}: {'still running' if view and view.active else (view.error if view else 'no run')}")
            failures += 1
            continue
        held = view.epochs[view.done.best_epoch - 1] if view.done.reason == "early_stop" else view.epochs[-1]
        where = mgr.store.path(view.key) if view.saved else "NOT SAVED"
        print(f"{'trained' if view.done.reason in REASONS else view.done.reason:8s}{label}: test accuracy "
              f"{held.test_acc:.1%} in {time.perf_counter() - started:.1f} s ({view.done.reason}) -> {where}")
        if not view.saved:
            failures += 1
            if mgr.warning is not None:
                print(f"        cannot save: {mgr.warning}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
