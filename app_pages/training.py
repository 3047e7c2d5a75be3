"""Training lab: watch LeNet-5 learn, up to four runs side by side. Runs live in background jobs, never in this script,
so moving a widget, switching pages or opening a second tab never stops, restarts or duplicates them."""
import streamlit as st

from core.errors import LabError
from core.lenet import ACTIVATIONS, POOLINGS
from core.training import MISTAKES, OPTIMIZERS, USUAL_LR, TrainConfig, preset_configs
from lab import cache
from lab.cache import dataset as digits_of
from lab.nav import page_for
from lab.runs import COLORS, Run, finished, results, watch
from lab.snippets.training import training_script
from lab.ui import code_panel, explain, lab_error, t, url_number_refused, url_option

MAX_RUNS = len(COLORS)
PRESETS = ("activation", "optimizer", "grid", "custom")
LR_RANGE = (1e-6, 1e6)  # what the number boxes take: 1e6 is allowed, to show a diverging run
FIXED_BY_PRESET = {"activation": {"activation"}, "optimizer": {"optimizer", "lr", "momentum"},
                   "grid": {"activation", "optimizer", "lr", "momentum"}}
CUSTOM_DEFAULTS = (("relu", "adam"), ("tanh", "adam"), ("relu", "sgd"), ("tanh", "sgd"))  # starts as the 2x2
BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512)



def datasets() -> list[str]:
    """The datasets this server can train on."""
    return ["embedded"] + (["mnist"] if cache.mnist_available() else [])


def shared_controls(fixed: set[str]) -> TrainConfig:
    """Every TrainConfig field as a widget (bound to the URL); fields a preset sets are shown disabled."""
    off = {name: name in fixed for name in ("activation", "optimizer", "lr", "momentum")}
    note = t("training.set_by_preset")
    model_col, opt_col, data_col, plan_col = st.columns(4)
    with model_col:
        st.markdown(f"**{t('training.group_model')}**")
        act = url_option("training.activation", list(ACTIVATIONS), "tr_act", "relu", prefix="training.act_",
                      disabled=off["activation"], help=note if off["activation"] else None)
        pool = url_option("training.pooling", list(POOLINGS), "tr_pool", "max", prefix="training.pool_")
        dropout = st.slider(t("training.dropout"), 0.0, 0.8, 0.0, 0.1, key="tr_drop", bind="query-params",
                            help=t("training.dropout_help"))
    with opt_col:
        st.markdown(f"**{t('training.group_optimizer')}**")
        opt = url_option("training.optimizer", OPTIMIZERS, "tr_opt", "adam", prefix="training.opt_",
                      disabled=off["optimizer"], help=note if off["optimizer"] else None)
        url_number_refused("tr_lr", LR_RANGE[0], LR_RANGE[1])
        lr = st.number_input(t("training.lr"), min_value=LR_RANGE[0], max_value=LR_RANGE[1], value=1e-3, step=1e-4,
                             format="%g", key="tr_lr", bind="query-params", disabled=off["lr"],
                             help=note if off["lr"] else t("training.lr_help", usual=USUAL_LR[opt]))
        momentum = st.slider(t("training.momentum"), 0.0, 0.99, 0.9, 0.01, key="tr_mom", bind="query-params",
                             disabled=off["momentum"] or opt != "sgd", help=t("training.momentum_help"))
        wd = st.number_input(t("training.weight_decay"), min_value=0.0, max_value=1.0, value=0.0, step=1e-4,
                             format="%g", key="tr_wd", bind="query-params", help=t("training.weight_decay_help"))
    with data_col:
        st.markdown(f"**{t('training.group_data')}**")
        names = datasets()
        dataset = url_option("training.dataset", names, "tr_data", names[-1], prefix="training.data_")
        available = len(digits_of(dataset).train_labels)
        top = max(100, available // 100 * 100)
        if st.session_state.get("tr_n", 0) > top:
            st.session_state["tr_n"] = top
        n = st.slider(t("training.train_size"), 100, top, min(4000, top), 100, key="tr_n", bind="query-params")
        batch = url_option("training.batch_size", BATCH_SIZES, "tr_bs", 64, widget=st.select_slider)
        norm = st.toggle(t("training.normalize"), True, key="tr_norm", bind="query-params",
                         help=t("training.normalize_help"))
    with plan_col:
        st.markdown(f"**{t('training.group_schedule')}**")
        epochs = st.slider(t("training.epochs"), 1, 30, 10, key="tr_ep", bind="query-params")
        patience = st.slider(t("training.patience"), 0, 10, 0, key="tr_pat", bind="query-params",
                             help=t("training.patience_help"))
        seed = st.number_input(t("training.seed"), 0, 9999, 0, key="tr_seed", bind="query-params",
                               help=t("training.seed_help"))
        with st.expander(t("training.advanced")):
            mistake = url_option("training.mistake", MISTAKES, "tr_mistake", "none", prefix="training.mistake_",
                              help=t("training.mistake_help"))
    return TrainConfig(activation=act, pooling=pool, optimizer=opt, lr=float(lr), momentum=float(momentum),
                       weight_decay=float(wd), batch_size=int(batch), epochs=int(epochs), train_size=int(n),
                       normalize=bool(norm), seed=int(seed), patience=int(patience), dropout=float(dropout),
                       mistake=mistake, dataset=dataset)


def custom_runs(base: TrainConfig) -> list[TrainConfig]:
    """Compare mode 'custom': 2-4 runs, each with its own activation, optimizer, learning rate and seed."""
    count = st.slider(t("training.run_count"), 2, MAX_RUNS, 2, key="tr_runs", bind="query-params")
    runs = []
    for i in range(count):
        act0, opt0 = CUSTOM_DEFAULTS[i]
        cols = st.columns([1, 1.2, 1.2, 1.2, 1.2])
        cols[0].markdown(f"<span style='color:{COLORS[i]};font-size:1.4em'>■</span> **{t('training.run', n=i + 1)}**",
                         unsafe_allow_html=True)
        with cols[1]:
            act = url_option("training.activation", list(ACTIVATIONS), f"tr_r{i + 1}_act", act0, prefix="training.act_")
        with cols[2]:
            opt = url_option("training.optimizer", OPTIMIZERS, f"tr_r{i + 1}_opt", opt0, prefix="training.opt_")
        with cols[3]:
            url_number_refused(f"tr_r{i + 1}_lr", LR_RANGE[0], LR_RANGE[1])
        lr = cols[3].number_input(t("training.lr"), min_value=LR_RANGE[0], max_value=LR_RANGE[1], value=USUAL_LR[opt0],
                                  step=1e-4, format="%g", key=f"tr_r{i + 1}_lr", bind="query-params")
        seed = cols[4].number_input(t("training.seed"), 0, 9999, base.seed, key=f"tr_r{i + 1}_seed",
                                    bind="query-params")
        runs.append(base.but(activation=act, optimizer=opt, lr=float(lr), seed=int(seed)))
    return runs


def read_controls() -> tuple[list[TrainConfig], bool]:
    """The runs the controls describe (1 to 4, duplicates merged) and whether two runs were identical."""
    mode = url_option("training.mode", ("single", "compare"), "tr_mode", "compare", widget=st.segmented_control,
                   prefix="training.mode_")
    preset = "single"
    if mode == "compare":
        preset = url_option("training.preset", PRESETS, "tr_preset", "activation", widget=st.pills,
                         prefix="training.preset_")
    st.caption(t(f"training.preset_{preset}_note"))
    base = shared_controls(FIXED_BY_PRESET.get(preset, set()))
    if preset == "single":
        configs = [base]
    elif preset == "custom":
        configs = custom_runs(base)
    else:
        configs = preset_configs(base, preset)
    unique = list(dict.fromkeys(configs))
    return unique, len(unique) < len(configs)


st.title(t("training.title"))
explain("training.intro")

try:
    configs, merged = read_controls()
except LabError as exc:
    lab_error(exc)
    st.stop()
if merged:
    st.info(t("training.merged"), icon=":material/merge:")
for i, cfg in enumerate(configs):
    if cfg.lr_is_risky:
        st.warning(t("training.lr_risky", n=i + 1, lr=f"{cfg.lr:g}", opt=cfg.optimizer,
                     usual=f"{USUAL_LR[cfg.optimizer]:g}"), icon=":material/warning:")

runs = [Run(t("training.run", n=i + 1), cfg, COLORS[i]) for i, cfg in enumerate(configs)]
# Follows the server: a run another student starts with these settings shows up, and so do the other runs training.
views = watch(runs, "tr", batches_toggle=True, follow=True)
explain("training.why_both")

if finished(views):
    st.subheader(t("training.results"))
    results(runs, views)  # after early stopping: the best epoch, whose weights are kept
    explain(f"training.lesson_{'single' if len(views) == 1 else 'compare'}")
    usable = [v.key for v in views if v.usable]
    inspect = page_for("inspect")
    if usable and inspect is not None:
        st.session_state["tr_last_keys"] = usable
        st.page_link(inspect.path, label=t("training.inspect_link"), icon=":material/biotech:",
                     query_params={"insp_runs": ",".join(usable)})

st.caption(t("training.code_note") if len(configs) > 1 else "")
code_panel(training_script(configs[0]))
