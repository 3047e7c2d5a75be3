"""Optimizers: SGD, momentum, Adam and friends racing on real loss surfaces, and mini-batch noise on real digits."""
import streamlit as st

from core.errors import LabError
from core.optim_paths import OPTIMIZERS, SURFACES, resolve_hyperparams
from lab import cache
from lab.snippets.optimizers import path_script
from lab.ui import code_panel, explain, lab_error, play_end, play_tick, step_play_button, t, url_choice
from lab.views import optimizers as view

# preset -> (surface, start or None for the surface's own, steps, racers [(optimizer, lr)])
PRESETS: dict[str, tuple[str, tuple[float, float] | None, int, tuple[tuple[str, float], ...]]] = {
    "valley": ("rosenbrock", (-1.5, 2.0), 500, (("sgd", 1e-3), ("momentum", 1e-3), ("adam", 0.05))),
    "bowl": ("bowl", None, 100, (("sgd", 0.45), ("momentum", 0.1), ("adam", 0.3))),
    "too_big": ("bowl", None, 100, (("sgd", 0.1), ("sgd", 0.45), ("sgd", 0.55))),  # stable only for lr < 2/4
    "saddle": ("saddle", None, 300, (("sgd", 0.01), ("momentum", 0.01), ("adam", 0.05))),
    "himmelblau": ("himmelblau", None, 300, (("sgd", 0.005), ("nesterov", 0.002), ("rmsprop", 0.05))),
}
PAIRS = {"1-7": (1, 7), "4-9": (4, 9), "0-6": (0, 6), "3-8": (3, 8), "0-1": (0, 1)}  # 0-1 is almost separable
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
NOISE_STEPS = 150
STEPS = {"momentum": 0.01, "alpha": 0.01, "beta1": 0.01, "beta2": 0.001, "eps": 1e-8, "weight_decay": 0.01}
EXTRA = {"momentum": "momentum", "nesterov": "momentum", "adam": "beta1", "adamw": "beta1", "rmsprop": "alpha"}

st.title(t("optim.title"))
explain("optim.intro")


def apply_preset() -> None:
    """Copy the chosen preset into the controls (before they are drawn)."""
    surface, _, steps, racers = PRESETS[st.session_state["opt_preset"]]
    st.session_state.update(opt_surface=surface, opt_steps=steps, opt_at=steps)
    for i, (name, lr) in enumerate(racers):
        st.session_state.update({f"opt_o{i}": name, f"opt_lr{i}": lr})


preset = url_choice(st.segmented_control, t("optim.preset"), list(PRESETS), key="opt_preset",
                    format_func=lambda p: t(f"optim.preset_{p}"), on_change=apply_preset)


def initial(key: str, value: float) -> dict:
    """value= only for a widget whose state is not set yet (Streamlit warns about both)."""
    return {} if key in st.session_state else {"value": value}


st.info(t(f"optim.story_{preset}"), icon=":material/lightbulb:")
surface, start, default_steps, default_racers = PRESETS[preset]
c1, c2 = st.columns([1, 2])
surface = url_choice(c1.selectbox, t("optim.surface"), list(SURFACES), key="opt_surface", default=surface,
                     format_func=lambda s: t(f"optim.surface_{s}"))
steps = c2.slider(t("optim.steps"), 10, 2000, step=10, key="opt_steps", bind="query-params",
                  **initial("opt_steps", default_steps))
start = SURFACES[surface].start if surface != PRESETS[preset][0] or start is None else start

runs, names, colors = [], [], []
for i, col in enumerate(st.columns(3)):
    with col:
        name = url_choice(st.selectbox, t("optim.racer", n=i + 1), list(OPTIMIZERS), key=f"opt_o{i}",
                          default=default_racers[i][0], format_func=lambda o: t(f"optim.opt_{o}"))
        hp = {"lr": st.number_input(t("optim.lr"), format="%g", step=0.001, key=f"opt_lr{i}", bind="query-params",
                                    **initial(f"opt_lr{i}", default_racers[i][1]))}
        extra = EXTRA.get(name)
        if extra:
            default = OPTIMIZERS[name][2][extra]
            hp[extra] = st.number_input(t(f"optim.hp_{extra}"), value=default, format="%g", step=0.01,
                                        key=f"opt_{extra}{i}_{name}", bind="query-params")
        with st.expander(t("optim.more")):  # the optimizer's other settings, torch's defaults to start with
            for key, default in OPTIMIZERS[name][2].items():
                if key not in ("lr", extra):
                    hp[key] = st.number_input(t(f"optim.hp_{key}"), value=default, format="%g", step=STEPS[key],
                                              key=f"opt_{key}{i}_{name}", bind="query-params")
        try:  # a nonsense setting (also one typed into the URL) stops this racer only, with the reason under it
            resolve_hyperparams(name, **hp)
        except LabError as exc:
            lab_error(exc)
            continue
        runs.append((name, tuple(sorted(hp.items()))))
        names.append(f"{i + 1}. {t(f'optim.opt_{name}')} (lr={hp['lr']:g})")
        colors.append(view.COLORS[i])

try:
    paths = cache.race_paths(surface, tuple(runs), tuple(start), int(steps)) if runs else None
except LabError as exc:
    lab_error(exc)
    paths = None

if paths is not None:
    for i, path in enumerate(paths):
        if path.diverged_at is not None:
            st.warning(t(f"optim.diverged_{path.reason}", name=names[i], step=path.diverged_at),
                       icon=":material/warning:")
    playing = step_play_button("opt", steps, t("optim.play"), t("optim.pause"))

    @st.fragment(run_every=0.5 if playing else None)
    def race_view() -> None:
        """The contour map and the loss curves at the chosen step; while playing, the step advances on its own."""
        play_tick("opt", steps, max(1, steps // 40))
        at = st.slider(t("optim.at_step"), 0, steps, key="opt_at", **initial("opt_at", steps))
        left, right = st.columns([3, 2])
        left.plotly_chart(view.surface_figure(surface, paths, names, colors, at), width="stretch", key="opt_surface_fig")
        curves = [(n, p.losses, c, None) for n, p, c in zip(names, paths, colors)]
        right.plotly_chart(view.loss_figure(curves, at, t("optim.step"), t("optim.loss"), height=420), width="stretch",
                           key="opt_loss_fig")
        rows = [{t("optim.col_racer"): n, t("optim.col_step"): min(at, p.steps),
                 "θ = (x, y)": view.fixed_pair(p.positions[min(at, p.steps)]),
                 t("optim.loss"): f"{p.losses[min(at, p.steps)]:.4g}"} for n, p in zip(names, paths)]
        st.dataframe(rows, hide_index=True, width="stretch")
        play_end("opt", at, steps)

    race_view()

    st.header(t("optim.inside"))
    explain("optim.inside_intro")
    which = st.selectbox(t("optim.which"), range(len(paths)), format_func=names.__getitem__, key="opt_inside")
    view.inside_panel(paths[which], names[which])
    code_panel(path_script(surface, paths[which].optimizer, paths[which].hyperparams, tuple(start), int(steps)))

st.header(t("optim.noise"))
explain("optim.noise_intro")
n1, n2, n3, n4 = st.columns(4)
pair = url_choice(n1.selectbox, t("optim.pair"), list(PAIRS), key="opt_pair")
noise_opt = url_choice(n2.selectbox, t("optim.noise_opt"), ["sgd", "momentum", "adam"], key="opt_nopt",
                       format_func=lambda o: t(f"optim.opt_{o}"))
batch = url_choice(n3.select_slider, t("optim.batch"), BATCHES, key="opt_batch", default=4)
blr = n4.slider(t("optim.lr"), 0.01, 2.0, 0.5, 0.01, key="opt_blr", bind="query-params")
try:
    small, full, grid = cache.minibatch_paths(PAIRS[pair], int(batch), float(blr), NOISE_STEPS, 0, noise_opt)
except LabError as exc:
    lab_error(exc)
else:
    view.noise_panel(small, full, grid)
