"""Training lab: watch LeNet-5 learn, up to four runs side by side. Runs live in background jobs, never in this script,
so moving a widget, switching pages or opening a second tab never stops, restarts or duplicates them.

The first screen holds the choice of comparison, the settings (folded into popovers), Start and the curves; the
network's design (sizes, presets, layer table) and each run's snapshots ("watch it learn") come below."""
import streamlit as st

from core.errors import LabError
from core.lenet import ACTIVATIONS, ARCH_PRESETS, CLASSIC_SIZES, KERNEL_SIZES, LIMITS, POOLINGS, layer_plan
from core.snapshots import pick_digit
from core.training import MISTAKES, OPTIMIZERS, USUAL_LR, TrainConfig, preset_configs
from lab import cache, figures
from lab.cache import dataset as digits_of
from lab.nav import page_for
from lab.runs import COLORS, Run, field_text, finished, results, run_names, watch
from lab.snippets.training import training_script
from lab.ui import code_panel, explain, lab_error, t, url_choice, url_number_refused, url_option
from lab.views import training as view

MAX_RUNS = len(COLORS)
PRESETS = ("activation", "optimizer", "grid", "custom")
LR_RANGE = (1e-6, 1e6)  # what the number boxes take: 1e6 is allowed, to show a diverging run
FIXED_BY_PRESET = {"activation": ("activation",), "optimizer": ("optimizer", "lr", "momentum"),
                   "grid": ("activation", "optimizer", "lr", "momentum")}
CUSTOM_DEFAULTS = (("relu", "adam"), ("tanh", "adam"), ("relu", "sgd"), ("tanh", "sgd"))  # starts as the 2x2
BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512)
SIZE_KEYS = {"conv1_channels": "tr_c1", "conv2_channels": "tr_c2", "fc1_units": "tr_fc1", "fc2_units": "tr_fc2",
             "conv1_padding": "tr_pad"}  # the layer sizes typed as numbers; the kernel size is a choice (tr_k)
ARCH_KEYS = {**SIZE_KEYS, "kernel_size": "tr_k", "activation": "tr_act", "pooling": "tr_pool"}


def datasets() -> list[str]:
    """The datasets this server can train on."""
    return ["embedded"] + (["mnist"] if cache.mnist_available() else [])


def fixed_box(name: str, label_key: str, preset: str) -> None:
    """A setting the comparison decides, shown greyed with every run's value ("tanh / ReLU"), never one of its own."""
    runs = preset_configs(TrainConfig(), preset)
    if name in ("lr", "momentum"):  # plain numbers under their own label; momentum is SGD's alone
        values = dict.fromkeys(f"{getattr(c, name):g}" + (f" ({field_text('optimizer', c.optimizer)})" if name ==
                               "momentum" else "") for c in runs if name == "lr" or c.optimizer == "sgd")
    else:
        values = dict.fromkeys(field_text(name, getattr(c, name)) for c in runs)
    st.text_input(t(label_key), " / ".join(values), disabled=True, key=f"tr_fixed_{name}",
                  help=t("training.set_by_preset"))


def apply_arch_preset() -> None:
    """The architecture pills' callback: write the preset's fields into their widgets (and the link), then let the
    pills go back to no choice, ready for the next one."""
    name = st.session_state.get("tr_arch")
    for field, value in ARCH_PRESETS.get(name, {}).items():
        st.session_state[ARCH_KEYS[field]] = value
        if field in ("activation", "pooling", "kernel_size"):  # url_choice keeps these in the link itself
            st.query_params[ARCH_KEYS[field]] = str(value)
    st.session_state["tr_arch"] = None


def network_controls(fixed: tuple[str, ...], preset: str) -> dict:
    """Activation, pooling, dropout and the layer sizes (with the architecture presets) in the Network popover."""
    st.pills(t("training.arch_preset"), list(ARCH_PRESETS), key="tr_arch", on_change=apply_arch_preset,
             format_func=lambda p: t(f"training.arch_{p}"), help=t("training.arch_preset_help"))
    act_col, pool_col, drop_col = st.columns(3)
    with act_col:
        if "activation" in fixed:
            fixed_box("activation", "training.activation", preset)
            act = TrainConfig.activation  # each run's own comes from the comparison
        else:
            act = url_option("training.activation", list(ACTIVATIONS), "tr_act", "relu", prefix="training.act_")
    with pool_col:
        pool = url_option("training.pooling", list(POOLINGS), "tr_pool", "max", prefix="training.pool_")
    dropout = drop_col.slider(t("training.dropout"), 0.0, 0.8, 0.0, 0.1, key="tr_drop", bind="query-params",
                              help=t("training.dropout_help"))
    sizes: dict[str, int] = {}
    cols = st.columns(3)
    for i, (field, key) in enumerate(SIZE_KEYS.items()):
        low, high = LIMITS[field]
        url_number_refused(key, low, high)
        box = cols[i % 3].number_input(t(f"training.size_{field}"), low, high, CLASSIC_SIZES[field], key=key,
                                       bind="query-params", help=t(f"training.size_{field}_help"))
        sizes[field] = int(box)
    with cols[len(SIZE_KEYS) % 3]:
        sizes["kernel_size"] = url_choice(st.segmented_control, t("training.size_kernel_size"), list(KERNEL_SIZES),
                                          key="tr_k", default=CLASSIC_SIZES["kernel_size"],
                                          format_func=lambda k: f"{k}×{k}", help=t("training.size_kernel_size_help"))
    return dict(activation=act, pooling=pool, dropout=float(dropout), **sizes)


def optimizer_controls(fixed: tuple[str, ...], preset: str) -> dict:
    """Optimizer, learning rate, momentum and weight decay (the ones a comparison sets are shown greyed)."""
    if "optimizer" in fixed:
        for name in ("optimizer", "lr", "momentum"):
            fixed_box(name, f"training.{name}", preset)
        opt, lr, momentum = TrainConfig.optimizer, TrainConfig.lr, TrainConfig.momentum
    else:
        opt = url_option("training.optimizer", OPTIMIZERS, "tr_opt", "adam", prefix="training.opt_")
        url_number_refused("tr_lr", LR_RANGE[0], LR_RANGE[1])
        lr = st.number_input(t("training.lr"), min_value=LR_RANGE[0], max_value=LR_RANGE[1], value=1e-3, step=1e-4,
                             format="%g", key="tr_lr", bind="query-params",
                             help=t("training.lr_help", usual=USUAL_LR[opt]))
        momentum = st.slider(t("training.momentum"), 0.0, 0.99, 0.9, 0.01, key="tr_mom", bind="query-params",
                             disabled=opt != "sgd", help=t("training.momentum_help"))
    wd = st.number_input(t("training.weight_decay"), min_value=0.0, max_value=1.0, value=0.0, step=1e-4,
                         format="%g", key="tr_wd", bind="query-params", help=t("training.weight_decay_help"))
    return dict(optimizer=opt, lr=float(lr), momentum=float(momentum), weight_decay=float(wd))


def data_controls() -> dict:
    """Which digits, how many, in batches of what size, normalized or not."""
    names = datasets()
    data = url_option("training.dataset", names, "tr_data", names[-1], prefix="training.data_")
    available = len(digits_of(data).train_labels)
    top = max(100, available // 100 * 100)
    if st.session_state.get("tr_n", 0) > top:
        st.session_state["tr_n"] = top
    n = st.slider(t("training.train_size"), 100, top, min(4000, top), 100, key="tr_n", bind="query-params")
    batch = url_option("training.batch_size", BATCH_SIZES, "tr_bs", 64, widget=st.select_slider)
    norm = st.toggle(t("training.normalize"), True, key="tr_norm", bind="query-params",
                     help=t("training.normalize_help"))
    return dict(dataset=data, train_size=int(n), batch_size=int(batch), normalize=bool(norm))


def schedule_controls() -> dict:
    """Epochs, early stopping, seed and a deliberate mistake."""
    epochs = st.slider(t("training.epochs"), 1, 30, 10, key="tr_ep", bind="query-params")
    patience = st.slider(t("training.patience"), 0, 10, 0, key="tr_pat", bind="query-params",
                         help=t("training.patience_help"))
    seed = st.number_input(t("training.seed"), 0, 9999, 0, key="tr_seed", bind="query-params",
                           help=t("training.seed_help"))
    mistake = url_option("training.mistake", MISTAKES, "tr_mistake", "none", prefix="training.mistake_",
                         help=t("training.mistake_help"))
    return dict(epochs=int(epochs), patience=int(patience), seed=int(seed), mistake=mistake)


def custom_runs(base: TrainConfig) -> list[TrainConfig]:
    """Compare mode 'custom': 2-4 runs, each with its own activation, optimizer, learning rate and seed."""
    count = st.slider(t("training.run_count"), 2, MAX_RUNS, 2, key="tr_runs", bind="query-params")
    runs = []
    for i in range(count):
        act0, opt0 = CUSTOM_DEFAULTS[i]
        cols = st.columns([0.6, 1.2, 1.2, 1.2, 1])
        cols[0].markdown(f"<span style='color:{COLORS[i]};font-size:1.4em'>■</span> **{i + 1}**",
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


def read_controls() -> tuple[list[TrainConfig], bool, list]:
    """The runs the controls describe (1 to 4, duplicates merged), whether two runs were identical, and the three
    containers left in the controls' row for Start, Stop and the every-batch switch."""
    mode_col, preset_col = st.columns([1, 3], vertical_alignment="center")
    with mode_col:
        mode = url_option("training.mode", ("single", "compare"), "tr_mode", "compare", widget=st.segmented_control,
                          prefix="training.mode_", label_visibility="collapsed")
    preset = "single"
    if mode == "compare":
        with preset_col:
            preset = url_option("training.preset", PRESETS, "tr_preset", "activation", widget=st.pills,
                                prefix="training.preset_", label_visibility="collapsed")
    st.caption(t(f"training.preset_{preset}_note"))
    fixed = FIXED_BY_PRESET.get(preset, ())
    groups = [("group_model", ":material/hub:"), ("group_optimizer", ":material/tune:"),
              ("group_data", ":material/dataset:"), ("group_schedule", ":material/event_repeat:")]
    if preset == "custom":
        groups.append(("group_runs", ":material/view_column:"))
    row = st.columns([1.3] * len(groups) + [0.9, 0.9, 1.8], vertical_alignment="center")
    pops = [col.popover(t(f"training.{name}"), icon=icon, width="stretch", key=f"tr_pop_{name[6:]}")
            for col, (name, icon) in zip(row, groups)]
    with pops[0]:
        fields = network_controls(fixed, preset)
    with pops[1]:
        fields |= optimizer_controls(fixed, preset)
    with pops[2]:
        fields |= data_controls()
    with pops[3]:
        fields |= schedule_controls()
    base = TrainConfig(**fields)  # LabError (translated, with numbers) for a network that cannot be built
    with pops[0]:
        plan_section(base)
    if preset == "single":
        configs = [base]
    elif preset == "custom":
        with pops[4]:
            configs = custom_runs(base)
    else:
        configs = preset_configs(base, preset)
    unique = list(dict.fromkeys(configs))
    return unique, len(unique) < len(configs), row[len(groups):]


def plan_section(config: TrainConfig) -> None:
    """The layer table of the network as designed: shapes, parameters and multiply-adds, before any training."""
    plan = layer_plan(config.lenet)
    st.markdown(f"**{t('training.plan_title')}** " + t("training.plan_totals", params=f"{plan.params:,}",
                                                          macs=f"{plan.macs:,}"))
    st.table(view.layer_rows(plan, config.kernel_size, config.conv1_padding), hide_index=True, border="horizontal")


def summary(configs: list[TrainConfig], shared: str) -> None:
    """One line under the controls: what the runs share and how big the network is (the popovers are folded)."""
    plan = layer_plan(configs[0].lenet)
    parts = [t("training.summary_net", params=f"{plan.params:,}", macs=f"{plan.macs:,}")]
    if shared:
        parts.insert(0, t("training.summary_shared", n=len(configs), settings=shared) if len(configs) > 1 else shared)
    st.caption(" · ".join(parts))


def watch_it_learn(runs: list[Run], views: list) -> None:
    """Each run's conv1 filters, the watched digit's conv1 maps and its probabilities, live while it trains; a
    slider replays the moments a run was snapshot at (also for a run loaded from disk)."""
    st.subheader(t("training.snap_title"))
    moments = sorted({(s.epoch, s.batch) for v in views if v is not None for s in v.snapshots})
    batches = max([v.batches_per_epoch for v in views if v is not None] or [0])
    problems = [v.snapshot_problem for v in views if v is not None and v.snapshot_problem is not None]
    if problems:
        st.info(t(f"errors.{problems[0].code}"), icon=":material/history:")
    if not moments:
        st.caption(t("training.snap_empty"))
        return
    ss, last = st.session_state, len(moments) - 1
    if not 0 <= ss.get("tr_snap", -1) <= last or ss.get("tr_snap") == ss.get("tr_snap_last"):
        ss["tr_snap"] = last  # follows the newest snapshot until the slider is moved back
    ss["tr_snap_last"] = last
    digit_col, slider_col = st.columns([1.3, 6], vertical_alignment="center")
    data = digits_of(runs[0].config.dataset)
    i = pick_digit(data.test_images, data.test_labels)
    digit_col.image(data.test_images[i].numpy(), width=56)
    digit_col.caption(t("training.snap_digit", index=i))  # under the column, not the 56 px picture: one line
    if last:
        at = slider_col.select_slider(t("training.snap_slider"), list(range(len(moments))), key="tr_snap",
                                      format_func=lambda k: view.moment_text(moments[k], batches))
    else:
        at = 0
        slider_col.caption(view.moment_text(moments[0], batches))
    moment = moments[at]
    snaps = [view.at_moment(v.snapshots, moment) if v is not None else None for v in views]
    explain("training.snap_intro")
    figures.show(view.snapshot_figure([r.label for r in runs], [r.color for r in runs], snaps), key="tr_snap_fig")


st.title(t("training.title"))
explain("training.intro")

try:
    configs, merged, buttons = read_controls()
except LabError as exc:
    lab_error(exc)
    st.stop()
if merged:
    st.info(t("training.merged"), icon=":material/merge:")
names, shared = run_names(configs)
summary(configs, shared)
for name, cfg in zip(names, configs):
    if cfg.lr_is_risky:
        st.warning(t("training.lr_risky", name=name, lr=f"{cfg.lr:g}", opt=cfg.optimizer,
                     usual=f"{USUAL_LR[cfg.optimizer]:g}"), icon=":material/warning:")

runs = [Run(name, cfg, COLORS[i]) for i, (name, cfg) in enumerate(zip(names, configs))]
# Follows the server: a run another student starts with these settings shows up, and so do the other runs training.
views = watch(runs, "tr", batches_toggle=True, follow=True, where=buttons,
              extra=lambda now: watch_it_learn(runs, now))
explain("training.background")
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

st.caption(t("training.code_note", name=names[0]) if len(configs) > 1 else "")
code_panel(training_script(configs[0]))
