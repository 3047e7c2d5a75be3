"""Optimizers: SGD, momentum, Adam and friends racing on real loss surfaces, and mini-batch noise on real digits."""
import hashlib

import streamlit as st

from core.errors import LabError
from core.minibatch_noise import BATCHES, DEFAULT_BATCH, DEFAULT_LR, NOISE_STEPS, PAIRS
from core.optim_paths import OPTIMIZERS, PRESETS, SURFACES, resolve_hyperparams
from lab import cache, figures
from lab.snippets.optimizers import path_script
from lab.ui import code_panel, explain, lab_error, lang, t, url_choice
from lab.views import optimizers as view

STEPS = {"momentum": 0.01, "alpha": 0.01, "beta1": 0.01, "beta2": 0.001, "eps": 1e-8, "weight_decay": 0.01}
EXTRA = {"momentum": "momentum", "nesterov": "momentum", "adam": "beta1", "adamw": "beta1", "rmsprop": "alpha"}
STEP_KEYS = ("opt_step", "opt_at")  # a link's step: ?opt_step=40 (?opt_at= from older links)

st.title(t("optim.title"))
explain("optim.intro")


def apply_preset() -> None:
    """Copy the chosen preset into the controls (before they are drawn); its race opens at the last step."""
    surface, _, steps, racers = PRESETS[st.session_state["opt_preset"]]
    st.session_state.update(opt_surface=surface, opt_steps=steps)
    for i, (name, lr) in enumerate(racers):
        st.session_state.update({f"opt_o{i}": name, f"opt_lr{i}": lr})
    for key in STEP_KEYS:
        st.query_params.pop(key, None)


def initial(key: str, value: float) -> dict:
    """value= only for a widget whose state is not set yet (Streamlit warns about both)."""
    return {} if key in st.session_state else {"value": value}


def linked_step(steps: int) -> int:
    """The step a link names (the last step when it names none, or names something that is not a step)."""
    for key in STEP_KEYS:
        try:
            return min(max(int(st.query_params[key]), 0), steps)
        except (KeyError, ValueError):
            continue
    return steps


def racer_controls(i: int, default: tuple[str, float]) -> tuple[str, dict[str, float]] | None:
    """Optimizer i's choice and settings; None (with the reason shown under it) when a setting is nonsense."""
    name = url_choice(st.selectbox, t("optim.racer", n=i + 1), list(OPTIMIZERS), key=f"opt_o{i}", default=default[0],
                      format_func=lambda o: t(f"optim.opt_{o}"))
    hp = {"lr": st.number_input(t("optim.lr"), format="%g", step=0.001, key=f"opt_lr{i}", bind="query-params",
                                **initial(f"opt_lr{i}", default[1]))}
    extra = EXTRA.get(name)
    if extra:
        hp[extra] = st.number_input(t(f"optim.hp_{extra}"), value=OPTIMIZERS[name][2][extra], format="%g", step=0.01,
                                    key=f"opt_{extra}{i}_{name}", bind="query-params")
    with st.expander(t("optim.more")):  # the optimizer's other settings, torch's defaults to start with
        for key, value in OPTIMIZERS[name][2].items():
            if key not in ("lr", extra):
                hp[key] = st.number_input(t(f"optim.hp_{key}"), value=value, format="%g", step=STEPS[key],
                                          key=f"opt_{key}{i}_{name}", bind="query-params")
    try:  # a nonsense setting (also one typed into the URL) stops this racer only, with the reason under it
        resolve_hyperparams(name, **hp)
    except LabError as exc:
        lab_error(exc)
        return None
    return name, hp


@st.fragment
def race_section() -> None:
    """Preset, surface and racers; the race in one figure that steps in the browser; inside the optimizer."""
    preset = url_choice(st.segmented_control, t("optim.preset"), list(PRESETS), key="opt_preset",
                        format_func=lambda p: t(f"optim.preset_{p}"), on_change=apply_preset)
    chart = st.container()  # the race goes first, on the first screen; its controls below it
    st.info(t(f"optim.story_{preset}"), icon=":material/lightbulb:")
    surface, start, default_steps, default_racers = PRESETS[preset]
    c1, c2 = st.columns([1, 2])
    surface = url_choice(c1.selectbox, t("optim.surface"), list(SURFACES), key="opt_surface", default=surface,
                         format_func=lambda s: t(f"optim.surface_{s}"))
    steps = int(c2.slider(t("optim.steps"), 10, 2000, step=10, key="opt_steps", bind="query-params",
                          **initial("opt_steps", default_steps)))
    start = SURFACES[surface].start if surface != PRESETS[preset][0] or start is None else start

    runs, names = [], []
    for i, col in enumerate(st.columns(3)):
        with col:
            racer = racer_controls(i, default_racers[i])
        if racer is not None:
            name, hp = racer
            runs.append((name, tuple(sorted(hp.items()))))
            names.append(f"{i + 1}. {t(f'optim.opt_{name}')} (lr={hp['lr']:g})")
    try:
        paths = cache.race_paths(surface, tuple(runs), tuple(start), steps) if runs else None
    except LabError as exc:
        lab_error(exc)
        paths = None
    if paths is None:
        return
    at = linked_step(steps)
    key = (lang(), surface, tuple(runs), tuple(start), steps, at, tuple(names))
    fig = cache.view_figure("optimizers.race", key,
                            lambda: view.race_figure(surface, start, paths, names, at))
    figures.show(fig, where=chart, key="opt_surface_fig")
    for i, path in enumerate(paths):
        if path.diverged_at is not None:
            chart.warning(t(f"optim.diverged_{path.reason}", name=names[i], step=path.diverged_at),
                          icon=":material/warning:")
    chart.caption(t("optim.race_note"))

    inside(surface, tuple(start), steps, paths, names)


@st.fragment
def inside(surface: str, start: tuple[float, float], steps: int, paths: list, names: list[str]) -> None:
    """One racer's optimizer state and the course's formulas. A fragment of its own: choosing another racer does
    not send the race figure (about 300 kB) again."""
    st.header(t("optim.inside"))
    explain("optim.inside_intro")
    # The chooser is a new widget whenever its labels change (a learning rate, a preset): a kept combobox went on
    # showing the old label ("SGD (lr=0.45)") over a table of lr 0.1. The racer chosen is kept across.
    labels = hashlib.sha1("|".join(names).encode()).hexdigest()[:10]
    which = st.segmented_control(t("optim.which"), range(len(paths)), format_func=names.__getitem__, required=True,
                                 default=min(st.session_state.get("opt_inside", 0), len(paths) - 1),
                                 key=f"opt_inside_{labels}")
    st.session_state["opt_inside"] = which
    view.inside_panel(paths[which], names[which])
    code_panel(path_script(surface, paths[which].optimizer, paths[which].hyperparams, start, steps))


@st.fragment
def noise_section() -> None:
    """Mini-batch noise: a batch-size control and the noisy path beside the full-batch one (reruns alone)."""
    st.header(t("optim.noise"))
    explain("optim.noise_intro")
    n1, n2, n3, n4 = st.columns(4)
    pair = url_choice(n1.selectbox, t("optim.pair"), list(PAIRS), key="opt_pair")
    noise_opt = url_choice(n2.selectbox, t("optim.noise_opt"), ["sgd", "momentum", "adam"], key="opt_nopt",
                           format_func=lambda o: t(f"optim.opt_{o}"))
    batch = url_choice(n3.select_slider, t("optim.batch"), BATCHES, key="opt_batch", default=DEFAULT_BATCH)
    blr = n4.slider(t("optim.lr"), 0.01, 2.0, DEFAULT_LR, 0.01, key="opt_blr", bind="query-params")
    args = (PAIRS[pair], int(batch), float(blr), NOISE_STEPS, 0, noise_opt)
    try:
        small, full, grid = cache.minibatch_paths(*args)
    except LabError as exc:
        lab_error(exc)
        return
    view.noise_warnings(small, full)
    left, right = st.columns([3, 2])
    figures.show(cache.view_figure("optimizers.noise_map", (lang(), *args), lambda: view.noise_map(small, full, grid)),
                 where=left, key="opt_noise_fig")
    figures.show(cache.view_figure("optimizers.noise_loss", (lang(), *args), lambda: view.noise_losses(small, full)),
                 where=right, key="opt_noise_loss")
    right.caption(view.noise_caption(small, full))


race_section()
noise_section()
