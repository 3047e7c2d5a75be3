"""Server-wide caches: data, models and the job manager shared by every session (read-only!)."""
from __future__ import annotations

import gc
import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Iterator

import pandas  # noqa: F401  see below
import streamlit as st
import torch

# Plotly looks pandas up in sys.modules without the import lock: on a fresh server, pages started at once by several
# students saw it half-imported ("partially initialized module 'pandas' has no attribute 'Series'"). Importing it
# here, before any page runs, makes every session wait for the whole module instead.

from core.activations import StackGradients, deep_stack, stack_gradients as measure_stack
from core.data import Digits, load_digits, to_model_input
from core.dataset import (BatchShapes, DigitDataset, EpochPlan, GradientNoise, LoaderEval, batch_shapes, epoch_plan,
                          evaluate_loader, gradient_noise)
from core.errors import LabError
from core.i18n import LANGUAGES, load_catalog
from core.image_tensor import norm_params
from core.minibatch_noise import BatchPath, digit_features, loss_grid, minibatch_path
from core.model_inspect import Predictions, predict
from core.optim_paths import OptimPath, race
from core.pitfalls import (AccumulationSummary, OrderRun, Probe, RepeatedTest, accumulation, bug_probe, call_order_run,
                           repeated_test)
from core.train_eval import Savings, measure_no_grad
from core.lenet import LeNet5, LeNetConfig, build_lenet
from core.training import TrainConfig, run_to_end
from runtime.checkpoints import CheckpointStore
from runtime.jobs import JobManager, labelled, labelled_models
from runtime.settings import SETTINGS, Settings
from runtime.workers import WorkerPool

_IN_FORCE: list[Settings] = [SETTINGS]  # the settings the caches below use; the last one wins (see use_settings)


def settings() -> Settings:
    """The settings in force: SETTINGS, read from the environment at start, unless a test chose others."""
    return _IN_FORCE[-1]


@contextmanager
def use_settings(**changes: object) -> Iterator[Settings]:
    """Run with some settings changed (tests: a checkpoint folder of their own, a fake MNIST folder). A job manager
    made for them is shut down at the end; the server's own is left as it was."""
    changed = replace(settings(), **changes)
    _IN_FORCE.append(changed)
    try:
        yield changed
    finally:
        _IN_FORCE.remove(changed)
        if _manager_key(changed) != _manager_key(settings()):
            _manager.clear(*_manager_key(changed))  # its on_release stops its runs and training processes


if TYPE_CHECKING:  # plotly is imported in the background at start-up (_warm_up)
    import plotly.graph_objects as go


def _warm_up() -> None:
    """Pay start-up costs once, in the background: the first torch.optim optimizer imports torch._dynamo (about
    1.5 s); then freeze the garbage collector's view of everything imported so far. Streamlit runs gc.collect()
    after every rerun, and scanning the ~250,000 objects of torch, plotly and Streamlit took about 0.25 s of each
    rerun here; frozen objects are skipped (new garbage is still collected)."""
    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    import plotly.graph_objects  # noqa: F401  every page draws with them
    import plotly.subplots  # noqa: F401

    gc.collect()
    gc.freeze()
    if settings().warm_pages:
        # After the first page is drawn: the warm-up shares the interpreter (and its lock) with the pages, and a page
        # waiting on a value the low-priority thread is computing waits for that thread. Measured with the disk cache
        # dropped: server start to first painted page 5.4 s with the warm-up running alongside, 4.9 s without.
        _FIRST_PAGE.wait(timeout=FIRST_PAGE_WAIT)
        _warm_pages()


_FIRST_PAGE = threading.Event()  # set by app.py once a page has been drawn
FIRST_PAGE_WAIT = 30.0  # seconds the warm-up waits for that at most (a server nobody opens still warms up)


def page_drawn() -> None:
    """Called by app.py after each page run: the first one lets the background warm-up start."""
    _FIRST_PAGE.set()


def _warm_pages() -> None:
    """Compute every costly page's default-settings results, one page after the other, at the lowest priority (this
    thread only: Linux gives each thread its own nice value), so that a student's first visit finds them cached and
    the pages asked for meanwhile are not slowed much. A warm-up that fails is logged; the page computes it then."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux: same priority, still one page at a time
        pass
    for warm in WARM_UPS:
        try:
            warm()
        except Exception:  # noqa: BLE001  a warm-up is an optimisation: the page will compute (and report) it
            logging.getLogger(__name__).warning("warm-up %s failed", warm.__name__, exc_info=True)


@st.cache_resource(show_spinner=False)
def _configure_torch() -> int:
    """Set torch's intra-op thread pool once for the whole server (and warm torch.optim up in the background)."""
    torch.set_num_threads(settings().threads)
    threading.Thread(target=_warm_up, daemon=True, name="torch-warm-up").start()
    manager()  # start the training processes now: they take a few seconds to import torch
    return settings().threads


def configure_torch() -> int:
    """Called by app.py on every run; the work happens once."""
    return _configure_torch()


@st.cache_resource(show_spinner=False)
def digits(mnist_dir: str | None = SETTINGS.mnist_dir) -> Digits:
    """The digits every page uses (full MNIST if LENET_MNIST_DIR points at it). Never mutate."""
    return load_digits(mnist_dir)


@st.cache_resource(show_spinner=False)
def untrained_lenet(config: LeNetConfig = LeNetConfig(), seed: int = 0) -> LeNet5:
    """A seeded, untrained LeNet-5 in eval mode, for showing shapes and random filters. Never train it."""
    return build_lenet(config, seed).eval()


def embedded_digits() -> Digits:
    """The 5,000 embedded digits, whatever LENET_MNIST_DIR says (the same object as digits() when it is unset)."""
    return digits() if not SETTINGS.mnist_dir else digits(None)


def mnist_available() -> bool:
    """Full MNIST was configured (LENET_MNIST_DIR) and could be read."""
    mnist_dir = settings().mnist_dir
    return bool(mnist_dir) and digits(mnist_dir).source == "mnist"


def trained_models(limit: int = 8) -> dict[str, LeNet5]:
    """Label -> trained LeNet-5 (eval mode) of the newest finished runs, in memory or on disk. Never train them.

    A run still training is never included: only runs whose worker has finished (finished or early-stopped).
    """
    return labelled_models(manager().trained(fingerprints(), limit))


def trained_configs(limit: int = 8) -> dict[str, TrainConfig]:
    """Label -> configuration of the runs trained_models() lists: for naming them in the user's language (run_name)."""
    return {label: view.config for label, view in labelled(manager().trained(fingerprints(), limit)).items()}


def dataset(name: str) -> Digits:
    """TrainConfig.dataset -> the digits (LabError when full MNIST is asked for but not available)."""
    if name == "mnist":
        if not mnist_available():
            raise LabError("train.no_mnist")
        return digits(settings().mnist_dir)
    return embedded_digits()


def fingerprints() -> list[str]:
    """Fingerprints of the datasets this server has, for finding checkpoints by key."""
    mgr = manager()
    names = ["embedded"] + (["mnist"] if mnist_available() else [])
    return [mgr.fingerprint(dataset(n)) for n in names]


def manager() -> JobManager:
    """The one job manager of this server: max_jobs training processes, checkpoints under cache_dir."""
    return _manager(*_manager_key(settings()))


def _manager_key(s: Settings) -> tuple[str, int, int, str, str, str]:
    """The settings a job manager is made of (one manager per checkpoint folder, limits and backend)."""
    return str(s.cache_dir), s.max_jobs, s.train_threads, s.device, s.job_backend, s.ray_address


@st.cache_resource(show_spinner=False, on_release=lambda mgr: mgr.shutdown())
def _manager(cache_dir: str, max_jobs: int, train_threads: int, device: str, backend: str,
             ray_address: str) -> JobManager:
    """A job manager of max_jobs trainings saving into cache_dir (shut down when cleared): a local process pool, or
    (LENET_JOB_BACKEND=ray) Ray tasks behind one job table shared by every replica of the cluster."""
    if backend == "ray":
        from runtime.ray_jobs import RayJobManager  # imports Ray: only on servers that train on a cluster

        return RayJobManager(dataset, CheckpointStore(cache_dir), ray_address, max_jobs, train_threads, device,
                             settings().mnist_dir)
    return JobManager(data=dataset, max_parallel=max_jobs, store=CheckpointStore(cache_dir),
                      pool=WorkerPool(max_jobs, train_threads, device, eager=settings().eager_workers))


@st.cache_data(show_spinner=False, max_entries=128)
def stack_gradients(name: str, depth: int, init: str, batch: int = 64) -> StackGradients:
    """The activations page's deep-stack experiment on the first `batch` test digits, keyed on plain settings."""
    data = digits()
    x = to_model_input(data.test_images[:batch]).flatten(1)  # (batch, 784)
    return measure_stack(deep_stack(name, depth, init=init), x, data.test_labels[:batch])


def dead_units(name: str, bias_shift: float, model: LeNet5) -> dict[str, float]:
    """The activations page's dead-ReLU shares of a model by its name (a run's label, or "untrained relu") and the
    shift; the model object's id is part of the key, so a run trained again under the same label is measured anew."""
    return _dead_units(f"{name}@{id(model)}", bias_shift, model)


@st.cache_data(show_spinner=False, max_entries=256)
def _dead_units(model_key: str, bias_shift: float, _model: LeNet5, batch: int = 256) -> dict[str, float]:
    """dead_units on the first `batch` test digits, keyed on the model key and the shift."""
    from core.activations import lenet_dead_fraction

    return lenet_dead_fraction(_model, to_model_input(digits().test_images[:batch]), bias_shift=bias_shift)


# Every other st.cache_* of the app lives below, grouped by page: explicit wrappers keyed on plain settings (names,
# numbers, configurations, a dataset's source), never on tensors. A cached object is shared by every session: read it,
# never change it.

# ---- every page: the translation catalogs ----------------------------------------------------------------------------

@st.cache_resource
def catalogs() -> dict[str, dict[str, str]]:
    """Every language's catalog, read once per server."""
    return {lang: load_catalog(lang) for lang in LANGUAGES}


# ---- image_tensor ----------------------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=4)
def norm_of(name: str, source: str) -> tuple[float, float]:
    """Normalize's (mean, std) for a choice, computed once per dataset (full MNIST has 47 million pixels)."""
    return norm_params(name, digits().train_images)


# ---- dataset ---------------------------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=64)
def plan_of(n: int, batch: int, shuffle: bool, drop_last: bool, seed: int) -> EpochPlan:
    """What the loader hands out (cached: batch size 1 means thousands of batches)."""
    return epoch_plan(n, batch, shuffle, drop_last, seed)


@st.cache_data(show_spinner=False, max_entries=64)
def shapes_of(n: int, batch: int, shuffle: bool, drop_last: bool, seed: int) -> BatchShapes | None:
    """Shapes of the first and last batch of a real loader over the first n training digits."""
    data = digits()
    return batch_shapes(DigitDataset(data.train_images[:n], data.train_labels[:n]), batch, shuffle, drop_last, seed)


@st.cache_data(show_spinner=False, max_entries=16)
def test_passes(source: str, config: TrainConfig, sizes: tuple[int, ...]) -> list[LoaderEval]:
    """One model trained with `config`, tested on the first TEST_DIGITS test digits at every batch size of `sizes`
    (trained and timed once per dataset and configuration)."""
    from core.dataset import TEST_DIGITS

    data = digits()
    _, done = run_to_end(config, data)
    dataset = DigitDataset(data.test_images[:TEST_DIGITS], data.test_labels[:TEST_DIGITS])
    return [evaluate_loader(done.model, dataset, size) for size in sizes]


@st.cache_data(show_spinner=False, max_entries=16)
def noise_of(source: str, n: int, sizes: tuple[int, ...], batches: int, seed: int) -> list[GradientNoise]:
    """Gradient noise of every batch size on the first n training digits, measured once per dataset and seed for the
    whole class."""
    data = digits()
    return gradient_noise(data.train_images[:n], data.train_labels[:n], sizes, batches, seed)


# ---- optimizers ------------------------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=200)
def race_paths(surface: str, runs: tuple[tuple[str, tuple[tuple[str, float], ...]], ...],
               start: tuple[float, float], steps: int) -> list[OptimPath]:
    """race() keyed on plain values: moving the step slider never recomputes a path."""
    return race(surface, [(name, dict(hp)) for name, hp in runs], start, steps)


@st.cache_data(show_spinner=False, max_entries=100)
def minibatch_paths(classes: tuple[int, int], batch_size: int, lr: float, steps: int, seed: int, optimizer: str
                    ) -> tuple[BatchPath, BatchPath, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The chosen mini-batch run, the full-batch run beside it, and the full-data loss grid under both."""
    data = digits()
    feats, targets = digit_features(data.train_images, data.train_labels, classes)
    small = minibatch_path(feats, targets, min(batch_size, len(targets)), steps, seed, optimizer, lr=lr)
    full = minibatch_path(feats, targets, len(targets), steps, seed, optimizer, lr=lr)
    return small, full, loss_grid(feats, targets, [small, full])


# ---- training (and every page that watches runs: lab/runs.py) --------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=64, ttl=300)
def run_curves(state: tuple, language: str, batches: bool, floor: float | None, _build: Callable[[], go.Figure]
               ) -> go.Figure:
    """The curves of some runs at one moment, shared by every session that watches the same runs then (a class opening
    one link). Keyed on the runs' state (lab.runs.state_of), the language and the options; _build draws it."""
    return _build()


# ---- losses (softmax and cross-entropy) -------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=4)
def course_batch(logits: tuple[tuple[float, ...], ...], labels: tuple[int, ...]) -> tuple:
    """The softmax page's fixed batch: (core.losses.batch_cross_entropy, nn.CrossEntropyLoss's own mean, the three
    label formats): the same for every session and every move (about a third of the page's rerun when recomputed).
    Never mutate."""
    from core.losses import batch_cross_entropy, label_formats, torch_reference_batch

    rows, ys = [list(r) for r in logits], list(labels)
    return batch_cross_entropy(rows, ys), torch_reference_batch(rows, ys), label_formats(rows, ys)


@st.cache_resource(show_spinner=False, max_entries=256)
def loss_sweep(logits: tuple[float, ...], target: int):
    """Cross-entropy vs MSE as the true logit sweeps (core.losses.ce_vs_mse): it does not depend on the temperature,
    the slider a class moves most. Never mutate."""
    from core.losses import ce_vs_mse

    return ce_vs_mse(list(logits), target)


# ---- train_eval ------------------------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=128)
def mode_runs(source: str, batch: int, repeats: int, dropout: float, momentum: float, seed: int) -> dict:
    """mode -> core.train_eval.ModeRun: the first `batch` test digits through a seeded model `repeats` times in each
    mode (LabError for impossible settings is raised, not cached). Never mutate."""
    from core.train_eval import MODES, repeat_forward

    x = to_model_input(digits().test_images[:batch])  # (batch, 1, 28, 28)
    return {mode: repeat_forward(x, mode, repeats, dropout, momentum, seed) for mode in MODES}


@st.cache_resource(show_spinner=False, max_entries=128)
def stats_trace(source: str, batch: int, steps: int, eval_steps: int, momentum: float, seed: int):
    """Batch norm's running statistics over `steps` training batches of `batch` digits, then `eval_steps` in eval
    mode (core.train_eval.running_stats). Never mutate."""
    from core.train_eval import running_stats

    images = digits().train_images
    return running_stats([to_model_input(images[i * batch:(i + 1) * batch]) for i in range(steps)], eval_steps,
                         momentum, seed)


@st.cache_data(show_spinner=False, ttl=120, max_entries=32)
def no_grad_savings(source: str, batch: int, attempt: int) -> Savings:
    """A fresh measurement per batch size and press of 'measure again' (kept two minutes so reruns stay fast)."""
    return measure_no_grad(untrained_lenet(), to_model_input(digits().test_images[:batch]), repeats=11)


# ---- pitfalls --------------------------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=64)
def pitfall_probe(name: str, source: str, config: TrainConfig, steps: int, batch: int, k: int = 1, micro: int = 16,
                  updates: int = 3) -> Probe | AccumulationSummary:
    """The bug's mechanism measured on real digits (a few steps of LeNet-5), once per pitfall, dataset and setting."""
    data = digits()
    if name == "accumulation":
        return accumulation(data.train_images, data.train_labels, k, config, micro, updates).summary
    return bug_probe(name, data, config, steps, batch)


@st.cache_data(show_spinner=False, max_entries=64)
def order_runs(source: str, config: TrainConfig, order: str, steps: int, batch: int) -> tuple[OrderRun, OrderRun]:
    """The correct order and the chosen one, trained the same way (once per dataset, setting and order)."""
    data = digits()
    return tuple(call_order_run(data.train_images, data.train_labels, o, config, steps, batch) for o in ("zbs", order))


@st.cache_data(show_spinner=False, max_entries=32)
def scores_without_eval(config: TrainConfig) -> RepeatedTest | None:
    """The finished mistaken run's model tested three times with eval() and without (None until it has finished)."""
    view = manager().view(config)
    if view is None or view.done is None or view.active or not view.usable:
        return None
    data = digits()
    return repeated_test(view.done.model, data.test_images, data.test_labels, config.normalize)


# ---- model_inspect ---------------------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=16)
def predictions(key: str) -> Predictions | None:
    """A finished run's answers on its test digits (computed once per run key; never mutate)."""
    view = manager().find(key, fingerprints())
    if view is None or not view.usable:
        return None
    data = dataset(view.config.dataset)
    return predict(view.done.model, data.test_images, data.test_labels, view.config.normalize)


# ---- optimizers, activations, softmax, autograd: figure dicts --------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=128)
def view_figure(name: str, key: tuple, _build: Callable[[], dict]) -> dict:
    """A view's figure dict, built once per name and key and handed out as a copy (a dict unpickles in well under a
    millisecond; a go.Figure would cost as much as building it). The key must name everything the figure shows: the
    language, the settings, the step; _build draws it."""
    return _build()


# ---- model_inspect: "why did it say 7?" (attribution maps) -----------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=128)
def explanation(key: str, digit: bytes):
    """Saliency, integrated gradients and occlusion of a finished run's model for one uint8 28x28 digit (its 784 bytes),
    once per (run key, digit) for the whole class; None if the run is not usable. Never mutate the result."""
    from core.attribution import PAPER, explain  # Captum's import takes about a second: only when asked

    view = manager().find(key, fingerprints())
    if view is None or not view.usable:
        return None
    image = torch.frombuffer(bytearray(digit), dtype=torch.uint8).reshape(1, 28, 28)
    x = to_model_input(image, view.config.normalize)  # (1, 1, 28, 28)
    return explain(view.done.model, x, baseline=PAPER if view.config.normalize else 0.0)


# ---- home (p-basics): the pipeline of the best finished run, or of the untrained network -----------------------------

from runtime.jobs import JobView  # noqa: E402  (appended section; the import block above belongs to everyone)

def best_trained_run() -> tuple[str, JobView] | None:
    """The finished run with the best held test accuracy among the newest (runs of the pitfalls lab, broken on purpose,
    only when there is nothing else): (its label as trained_models() and the other pages list it, its view)."""
    views = manager().trained(fingerprints(), 8)
    labelled = list(zip(labelled_models(views), views))  # the labels in the views' order
    if not labelled:
        return None
    clean = [(label, v) for label, v in labelled if not v.config.mistake] or labelled
    return max(clean, key=lambda item: held_accuracy(item[1]))


def held_accuracy(view: JobView) -> float:
    """The test accuracy of the epoch whose weights a finished run keeps: the best one after early stopping, else the
    last (as lab.runs.held_epoch reads it); -1 when it has none."""
    n = view.done.best_epoch if view.done is not None and view.done.reason == "early_stop" else len(view.epochs)
    return view.epochs[n - 1].test_acc if 0 < n <= len(view.epochs) else -1.0


@st.cache_resource(show_spinner=False, max_entries=256)
def pipeline_outs(run_key: str, index: int) -> dict[str, torch.Tensor] | None:
    """Test digit `index` through LeNet5.forward_all of a finished run (its key) or, for run_key "", of the untrained
    seed-0 network; None when the run cannot be found. Shared by every session: never mutate."""
    if run_key:
        view = manager().find(run_key, fingerprints())
        if view is None or not view.usable:
            return None
        model, normalized = view.done.model, view.config.normalize
    else:
        model, normalized = untrained_lenet(), True
    x = to_model_input(digits().test_images[index : index + 1], normalized)  # (1, 1, 28, 28)
    with torch.no_grad():
        return {name: out.detach() for name, out in model.eval().forward_all(x).items()}


@st.cache_resource(show_spinner=False, max_entries=256)
def pipeline_traces(run_key: str, index: int, _build: Callable[[dict[str, torch.Tensor]], tuple]) -> tuple | None:
    """The home pipeline's language-free traces (and column places) for pipeline_outs(run_key, index), drawn by
    _build (lab.views.home.pipeline_traces): built once per run and digit for the whole class. Never mutate."""
    outs = pipeline_outs(run_key, index)
    return None if outs is None else _build(outs)


def warm_home() -> None:
    """The home page's defaults: test digit 0 through the best finished run (or the untrained one). (Its traces, a few
    ms, are drawn on the first visit: this module does not import the views.)"""
    best = best_trained_run()
    pipeline_outs(best[1].key if best else "", 0)


# ---- image_tensor (p-basics) -----------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=256)
def augmented(source: str, index: int, copies: int, degrees: float, shift: float, zoom: float, seed: int):
    """RandomAffine copies of test digit `index` (the first call also pays torchvision's start-up, about 1 s)."""
    from core.augment import augment

    return augment(digits().test_images[index], copies, degrees, shift, zoom, seed)


def warm_image_tensor() -> None:
    """The image-to-tensor page's defaults: both Normalize choices and the augmented copies of digit 0."""
    source = digits().source
    norm_of("course", source)
    norm_of("dataset", source)
    augmented(source, 0, 8, 15.0, 0.1, 0.1, 0)


# ---- dataset (p-basics) ----------------------------------------------------------------------------------------------

def warm_dataset() -> None:
    """The dataset page's defaults: its loader plan and shapes, and its two fixed measurements (a one-epoch model tested
    at every batch size, gradient noise), which no link can ask to recompute."""
    from core.course import TEST_RUN
    from core.dataset import MEASURE_SEED, NOISE_BATCHES, NOISE_N, NOISE_SIZES, TEST_SIZES

    data = digits()
    n = min(1000, len(data.train_labels))
    plan_of(n, 64, True, False, 0)
    shapes_of(n, 64, True, False, 0)
    test_passes(data.source, TEST_RUN, TEST_SIZES)
    noise_of(data.source, NOISE_N, NOISE_SIZES, NOISE_BATCHES, MEASURE_SEED)


# ---- model_building (p-basics) ---------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=64)
def module_anatomy(seed: int, n: int) -> tuple:
    """The model-building page's numbers for one seed and batch: (print(model), its parameter rows, their total,
    model(X) to classes, model(X) vs model.forward(X), the state_dict round trip). Results only: the model itself is
    never shared (a forward hook is registered on it). Never mutate."""
    from core import model_building as mb

    model, x = mb.network_and_input(seed, n)
    return (str(model), mb.parameter_table(model), mb.count_params(model), mb.predict(model, x),
            mb.call_vs_forward(model, x), mb.state_dict_round_trip(seed, n))


@st.cache_resource(show_spinner=False)
def sharing():
    """Weight sharing in numbers (fixed: LeNet's conv1 against a dense layer of the same sizes)."""
    from core.model_building import weight_sharing

    return weight_sharing()


@st.cache_resource(show_spinner=False, max_entries=32)
def flattened(feature_map: str, batch: int):
    """The flatten / global-average-pooling demo of one feature map and batch size."""
    from core.model_building import flatten_demo

    return flatten_demo(feature_map, batch)


def warm_model_building() -> None:
    """The model-building page's defaults (seed 0, four inputs, LeNet's feature map, one sample)."""
    module_anatomy(0, 4)
    sharing()
    flattened("lenet", 1)


# ---- optimizers, train_eval, pitfalls: their defaults -----------------------------------------------------------------

def warm_optimizers() -> None:
    """The optimizers page's defaults: the first preset's race and the mini-batch noise section."""
    from core.minibatch_noise import DEFAULT_BATCH, DEFAULT_LR, NOISE_STEPS, PAIRS
    from core.optim_paths import PRESETS, SURFACES, default_runs

    preset = next(iter(PRESETS))
    surface, start, steps, _ = PRESETS[preset]
    race_paths(surface, default_runs(preset), tuple(start or SURFACES[surface].start), steps)
    minibatch_paths(next(iter(PAIRS.values())), DEFAULT_BATCH, DEFAULT_LR, NOISE_STEPS, 0, "sgd")


def warm_train_eval() -> None:
    """The train() vs eval() page's defaults: both modes' repeated calls, the running statistics, the no_grad
    measurement."""
    from core.train_eval import (DEFAULT_DROPOUT, DEFAULT_MOMENTUM, DEFAULT_REPEATS, DEFAULT_STEPS, EVAL_STEPS,
                                 MODES_BATCH, NO_GRAD_BATCH, STATS_BATCH)

    source = digits().source
    mode_runs(source, MODES_BATCH, DEFAULT_REPEATS, DEFAULT_DROPOUT, DEFAULT_MOMENTUM, 0)
    stats_trace(source, STATS_BATCH, DEFAULT_STEPS, EVAL_STEPS, DEFAULT_MOMENTUM, 0)
    no_grad_savings(source, NO_GRAD_BATCH, 0)


def warm_pitfalls() -> None:
    """The pitfalls page's first pitfall's probe with the page's default setting."""
    from core.pitfalls import BASE, PITFALLS, PROBE_BATCH, PROBE_STEPS, probe_config_of
    from core.training import USUAL_LR

    base = BASE.but(lr=USUAL_LR[BASE.optimizer], seed=0)
    pitfall_probe(PITFALLS[0], digits().source, probe_config_of(base), PROBE_STEPS, PROBE_BATCH)


def warm_activations() -> None:
    """The activations page's defaults: the three deep stacks with matching initialisations, and the dead ReLUs of
    the untrained ReLU LeNet (what it shows before any run has finished)."""
    from core.activations import STACK_ACTS, STACK_DEPTH, STACK_INITS

    for name in STACK_ACTS:
        stack_gradients(name, STACK_DEPTH, STACK_INITS[0])
    relu = untrained_lenet(LeNetConfig(activation="relu"))
    dead_units("untrained relu", 0.0, relu)


# The background warm-up's order: the pages a class opens first, then by cost.
WARM_UPS: tuple[Callable[[], None], ...] = (warm_home, warm_image_tensor, warm_model_building, warm_optimizers,
                                            warm_activations, warm_train_eval, warm_pitfalls, warm_dataset)
