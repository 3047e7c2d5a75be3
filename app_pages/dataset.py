"""Dataset and DataLoader: shuffled batches and their shapes, iterations per epoch (first screen); then one sample at a
time, the sampler, the test batch size (same result, other time), gradient noise against batch size (real LeNet-5
gradients) and the linear scaling rule tried in three background runs, in tabs."""
import pandas as pd
import streamlit as st

from core.course import COURSE_RUN, TEST_RUN
from core.errors import LabError
from core.dataset import (MEASURE_SEED, NOISE_BATCHES, NOISE_N, NOISE_SIZES, TEST_DIGITS, TEST_SIZES, DigitDataset,
                          iterations_per_epoch, last_batch_size, sampling_theory, scaled_lr)
from lab import cache, figures
from lab.views.dataset import digit_strip, noise_figure, sample_figure
from lab.runs import CORRECT, MISTAKE, THIRD, Run, finished, results, watch
from lab.snippets.dataset import loader_script
from lab.ui import code, code_panel, explain, lab_error, t, url_choice

SCALING_BATCHES = (16, 32, 64, 128, 256, 512)
SHOWN = 16  # digits of a batch drawn


st.title(t("dataset.title"))
explain("dataset.intro")
data = cache.digits()
dataset = DigitDataset(data.train_images, data.train_labels)

# 1. the main picture: what a DataLoader hands out
st.subheader(t("dataset.loader_header"))
c1, c2, c3, c4, c5 = st.columns([4, 4, 4, 4, 5], vertical_alignment="bottom")
n = c1.number_input(t("dataset.n"), 1, len(dataset), min(1000, len(dataset)), key="ds_n", bind="query-params")
batch = c2.number_input(t("dataset.batch"), 1, 5000, 64, key="ds_bs", bind="query-params")
seed = c3.number_input(t("dataset.seed"), 0, 9999, 0, key="ds_seed", bind="query-params",
                       help=t("dataset.seed_help"))
shuffle = c4.toggle(t("dataset.shuffle"), True, key="ds_shuffle", bind="query-params", help=t("dataset.shuffle_help"))
drop_last = c5.toggle(t("dataset.drop_last"), False, key="ds_drop", bind="query-params", help=t("dataset.drop_help"))
try:
    plan = cache.plan_of(int(n), int(batch), bool(shuffle), bool(drop_last), int(seed))
    keep, drop = iterations_per_epoch(n, batch, False), iterations_per_epoch(n, batch, True)
except LabError as exc:
    lab_error(exc)
    st.stop()
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("dataset.iterations"), plan.iterations)
m2.metric(t("dataset.iterations_other", drop=not drop_last), drop if not drop_last else keep)
m3.metric(t("dataset.last_batch"), last_batch_size(n, batch, drop_last))
m4.metric(t("dataset.dropped"), plan.dropped)
if plan.iterations == 0:
    st.warning(t("dataset.nothing_left", n=n, batch=batch), icon=":material/warning:")
else:
    for epoch, first in enumerate(plan.first_batches, start=1):
        shown = list(first[:SHOWN])
        st.markdown(t("dataset.first_batch", epoch=epoch, size=len(first), shown=len(shown)))
        figures.show(digit_strip(data.train_images[shown], [str(int(data.train_labels[i])) for i in shown]),
                     key=f"ds_first_{epoch}", static=True)  # without shuffle both epochs' figures are equal
st.caption(t("dataset.formula", n=n, batch=batch, keep=keep, drop=drop))
explain("dataset.loader_intro")
if plan.iterations:
    explain(f"dataset.order_{'shuffled' if shuffle else 'fixed'}")

one, inside, testing, noise_tab, scaling = st.tabs([t("dataset.one_header"), t("dataset.sampler_header"),
                                                    t("dataset.test_header"), t("dataset.noise_header"),
                                                    t("dataset.scaling_header")])


@st.fragment
def one_sample() -> None:
    """dataset[index]: its own fragment, so moving the index reruns only this part, not the loaders and runs."""
    explain("dataset.one_intro")
    index = st.slider(t("dataset.index"), 0, len(dataset) - 1, 0, key="ds_index", bind="query-params")
    x, y = dataset[index]
    left, right = st.columns([1, 2])
    figures.show(sample_figure(x[0]), where=left, static=True)
    code(f"len(dataset)  # {len(dataset)}\nx, y = dataset[{index}]  # __getitem__({index})\n"
         f"x.shape, x.dtype  # {tuple(x.shape)}, {x.dtype}\n"
         f"x.min(), x.max()  # {float(x.min()):.1f}, {float(x.max()):.1f}\ny  # {y}", right)


with one:
    one_sample()

with inside:
    if plan.iterations:
        st.markdown(t("dataset.sampler_intro"))
        code(f"loader.sampler        # {plan.sampler}: the order of the indices\n"
             f"loader.batch_sampler  # {plan.batch_sampler}: groups them {batch} at a time\n"
             f"next(iter(loader.batch_sampler))  # {list(plan.first_batches[0][:12])}"
             f"{' ...' if len(plan.first_batches[0]) > 12 else ''}", language="python")
        shapes = cache.shapes_of(int(n), int(batch), bool(shuffle), bool(drop_last), int(seed))
        st.markdown(t("dataset.shapes_intro"))
        code(f"x, y = next(iter(loader))\nx.shape  # torch.Size({list(shapes.first[0])})\n"
             f"y.shape  # torch.Size({list(shapes.first[1])})\n"
             f"# ... the last of the {shapes.batches} batches:\nx.shape  # torch.Size({list(shapes.last[0])})\n"
             f"y.shape  # torch.Size({list(shapes.last[1])})", language="python")
        explain("dataset.shapes_same" if shapes.first == shapes.last else "dataset.shapes_last",
                batch=shapes.first[1][0], last=shapes.last[1][0])
        explain("dataset.workers")

with testing:
    explain("dataset.test_intro", n=min(TEST_DIGITS, len(data.test_labels)))
    with st.spinner(t("dataset.test_wait")):  # computed at server start (lab.cache.warm_dataset): one model for all
        passes = cache.test_passes(data.source, TEST_RUN, TEST_SIZES)
    st.dataframe(pd.DataFrame({t("dataset.batch"): [p.batch_size for p in passes],
                               t("dataset.test_batches"): [p.batches for p in passes],
                               t("dataset.last_batch"): [p.last_batch for p in passes],
                               t("dataset.test_acc"): [f"{p.accuracy:.2%}" for p in passes],
                               t("dataset.test_loss"): [f"{p.mean_loss:.6f}" for p in passes],
                               t("dataset.test_notes_loss"): [f"{p.mean_of_batch_means:.6f}" for p in passes],
                               t("dataset.test_ms"): [f"{p.seconds * 1000:.0f}" for p in passes]}), hide_index=True)
    st.caption(t("dataset.test_setup", epochs=TEST_RUN.epochs, n=TEST_RUN.train_size, seed=TEST_RUN.seed))
    worst = max(passes, key=lambda p: abs(p.mean_of_batch_means - p.mean_loss))
    slow, fast = max(passes, key=lambda p: p.seconds), min(passes, key=lambda p: p.seconds)
    explain("dataset.test_lesson", slow=slow.batch_size, fast=fast.batch_size,
            times=f"{slow.seconds / fast.seconds:.0f}")
    explain("dataset.test_slip", batch=worst.batch_size, batches=worst.batches, last=worst.last_batch,
            true=f"{worst.mean_loss:.6f}", notes=f"{worst.mean_of_batch_means:.6f}")

with noise_tab:
    with st.spinner(t("dataset.noise_wait")):  # computed at server start, with the course's seed
        noise = cache.noise_of(data.source, NOISE_N, NOISE_SIZES, NOISE_BATCHES, MEASURE_SEED)
    explain("dataset.noise_intro", n=NOISE_N, batches=NOISE_BATCHES,
            counts=", ".join(f"{g.batch_size} → {len(g.deviations)}" for g in noise))
    theory = sampling_theory(NOISE_N, noise[0], NOISE_SIZES)
    figures.show(noise_figure(noise, NOISE_SIZES, theory))
    st.caption(t("dataset.noise_numbers", small=NOISE_SIZES[0], big=NOISE_SIZES[-1], a=f"{noise[0].mean:.2f}",
                 b=f"{noise[-1].mean:.2f}", ratio=f"{noise[0].mean / noise[-1].mean:.1f}",
                 factor=NOISE_SIZES[-1] // NOISE_SIZES[0], root=f"{(NOISE_SIZES[-1] / NOISE_SIZES[0]) ** 0.5:.1f}"))

with scaling:
    explain("dataset.scaling_intro")
    s1, s2, s3 = st.columns(3)
    base_lr = s1.number_input(t("dataset.base_lr"), 1e-5, 1.0, 0.01, step=0.001, format="%g", key="ds_lr",
                              bind="query-params")
    with s2:
        base_bs = url_choice(st.select_slider, t("dataset.base_batch"), SCALING_BATCHES, key="ds_base_bs", default=64)
    with s3:
        new_bs = url_choice(st.select_slider, t("dataset.new_batch"), SCALING_BATCHES, key="ds_new_bs", default=256)
    new_lr = scaled_lr(float(base_lr), base_bs, new_bs)
    code(f"new_lr = {base_lr:g} × {new_bs} / {base_bs} = {new_lr:g}", language=None)
    base = COURSE_RUN.but(seed=int(seed))  # the seed above: these runs go through the training queue, on Start
    runs = [Run(t("dataset.run_base", batch=base_bs, lr=f"{base_lr:g}"), base.but(batch_size=base_bs, lr=float(base_lr)),
                THIRD),
            Run(t("dataset.run_same", batch=new_bs, lr=f"{base_lr:g}"), base.but(batch_size=new_bs, lr=float(base_lr)),
                MISTAKE),
            Run(t("dataset.run_scaled", batch=new_bs, lr=f"{new_lr:g}"), base.but(batch_size=new_bs, lr=new_lr), CORRECT)]
    st.caption(t("dataset.runs_setup", n=base.train_size, epochs=base.epochs))
    runs = list({r.config: r for r in runs}.values())  # the same batch size twice is one run
    views = watch(runs, "ds")
    if finished(views):
        results(runs, views)
    if all(v is not None and v.epochs and not v.active for v in views):
        explain("dataset.scaling_lesson")

code_panel(loader_script(data.source, int(n), int(batch), bool(shuffle), bool(drop_last), int(seed), NOISE_N,
                         NOISE_SIZES, NOISE_BATCHES, float(base_lr), base_bs, new_bs, MEASURE_SEED))
