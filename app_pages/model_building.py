"""Building a model: the course's nn.Module class beside what print(model) shows and its parameters (first screen);
then, in tabs, a forward pass to classes, model(X) against model.forward(X), a Conv2d's parameter count, weight
sharing, flattening (or global average pooling) and a state_dict round trip."""
import inspect

import streamlit as st

from core.errors import LabError
from core.model_building import FEATURE_MAPS, MAX_BATCH, NeuralNetwork, conv_params
from lab import cache
from lab.snippets.model_building import modules_script
from lab.ui import code, code_panel, explain, lab_error, t, url_choice

st.title(t("build.title"))
explain("build.intro")
c1, c2, _ = st.columns([1, 2, 2], vertical_alignment="bottom")
seed = int(c1.number_input(t("build.seed"), 0, 9999, 0, key="mb_seed", bind="query-params", help=t("build.seed_help")))
n = int(c2.slider(t("build.batch"), 1, MAX_BATCH, 4, key="mb_n", bind="query-params", help=t("build.batch_help")))
printed, params, total, pred, cf, rt = cache.module_anatomy(seed, n)

# 1. the main picture: the class, what print(model) shows of it, and its parameters
source, built = st.columns([1, 1])
code(inspect.getsource(NeuralNetwork), source, language="python", wrap_lines=True)
with built:
    st.markdown(f"**{t('build.print_header')}**")
    code(printed, language=None, wrap_lines=True)
    st.metric(t("build.total"), f"{total:,}")
st.dataframe([{t("build.col_name"): r.name, t("build.col_shape"): str(list(r.shape)), t("build.col_count"): r.count}
              for r in params], hide_index=True, width="stretch")
st.caption(t("build.weight_note"))
explain("build.print_explain")

forward, call, conv, share_tab, flat, state = st.tabs([t("build.forward_header"), t("build.call_header"),
                                                       t("build.conv_header"), t("build.share_header"),
                                                       t("build.flatten_header"), t("build.state_header")])
with forward:
    explain("build.forward_explain")
    code(f"X = torch.rand({n}, 28, 28)\nlogits = model(X)                        # {list(pred.logits.shape)}\n"
         f"pred_probab = nn.Softmax(dim=1)(logits)   # {list(pred.probs.shape)}\n"
         f"y_pred = pred_probab.argmax(1)           # {pred.predicted.tolist()}", language="python")
    st.dataframe([{"X": f"X[{i}]", **{str(k): round(float(p), 4) for k, p in enumerate(row)},
                   t("build.col_sum"): round(float(s), 6), "argmax": int(c)}
                  for i, (row, s, c) in enumerate(zip(pred.probs, pred.row_sums, pred.predicted))],
                 hide_index=True, width="stretch")
    st.caption(t("build.untrained_note"))

with call:
    explain("build.call_explain")
    m1, m2, m3 = st.columns(3)
    m1.metric(t("build.hook_on_call"), cf.hook_fired_on_call)
    m2.metric(t("build.hook_on_forward"), cf.hook_fired_on_forward)
    m3.metric(t("build.max_difference"), f"{cf.max_difference:g}")

with conv:
    explain("build.conv_explain")
    k1, k2, k3, k4, k5 = st.columns(5)
    in_ch = int(k1.number_input(t("build.in_channels"), 1, 1024, 192, key="mb_in", bind="query-params"))
    out_ch = int(k2.number_input(t("build.out_channels"), 1, 1024, 128, key="mb_out", bind="query-params"))
    kernel = int(k3.slider(t("build.kernel"), 1, 11, 3, key="mb_k", bind="query-params"))
    groups = int(k4.number_input("groups", 1, 1024, 1, key="mb_groups", bind="query-params", help=t("build.groups_help")))
    bias = bool(k5.toggle("bias", True, key="mb_bias", bind="query-params"))
    try:
        cc = conv_params(in_ch, out_ch, kernel, bias, groups)
    except LabError as exc:
        lab_error(exc)
        cc = None
    if cc is not None:
        code(f"conv = nn.Conv2d({in_ch}, {out_ch}, kernel_size={kernel}, groups={groups}, bias={bias})\n"
             f"conv.weight.shape  # {list(cc.weight_shape)}\n"
             f"weight: {out_ch} × ({in_ch} / {groups}) × {kernel} × {kernel} = {cc.weight:,}\n"
             f"bias:   {cc.bias}\ntotal:  {cc.total:,}", language=None)
        st.metric(t("build.conv_total"), f"{cc.total:,}")
    explain("build.groups_explain")

with share_tab:
    explain("build.share_explain")
    share = cache.sharing()
    s1, s2, s3, s4 = st.columns(4)
    s1.metric(t("build.share_conv"), f"{share.conv_params:,}")
    s2.metric(t("build.share_dense"), f"{share.dense_params:,}")
    s3.metric(t("build.share_seen_conv"), share.conv_inputs_seen)
    s4.metric(t("build.share_seen_dense"), share.dense_inputs_seen)
    st.caption(t("build.share_note", ratio=f"{share.dense_params / share.conv_params:,.0f}"))

with flat:
    explain("build.flatten_explain")
    f1, f2 = st.columns(2)
    with f1:
        fmap = url_choice(st.radio, t("build.feature_map"), list(FEATURE_MAPS), key="mb_map",
                          format_func=lambda m: t(f"build.map_{m}"), horizontal=True)
    batch = int(f2.slider(t("build.flatten_batch"), 1, 8, 1, key="mb_fb", bind="query-params"))
    fd = cache.flattened(fmap, batch)
    c, h, w = FEATURE_MAPS[fmap]
    features = fd.flatten_shape[1]
    code(f"x = torch.randn({batch}, {c}, {h}, {w})\nx.view(1, -1).shape                # {list(fd.view_shape)}\n"
         f"nn.Flatten()(x).shape              # {list(fd.flatten_shape)}\n"
         f"nn.Linear({features}, 10)(nn.Flatten()(x)).shape  # {list(fd.linear_out)}\n"
         f"nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())(x).shape  # {list(fd.gap_shape)}", language="python")
    if batch > 1:
        st.warning(t("build.view_warning", batch=batch, shape=str(list(fd.view_shape))), icon=":material/warning:")
    else:
        st.caption(t("build.view_same", same=fd.same_values))
    st.dataframe([{t("build.col_head"): f"Flatten → Linear({features}, 10)", t("build.col_output"): str(list(fd.flatten_shape)),
                   t("build.col_count"): fd.linear_params},
                  {t("build.col_head"): f"AdaptiveAvgPool2d(1) → Flatten → Linear({c}, 10)",
                   t("build.col_output"): str(list(fd.gap_shape)), t("build.col_count"): fd.gap_linear_params}],
                 hide_index=True, width="stretch")
    explain("build.gap_explain", ratio=f"{fd.saving:.0f}")

with state:
    explain("build.state_explain")
    st.dataframe([{t("build.col_key"): k, t("build.col_shape"): str(list(s))} for k, s in rt.keys], hide_index=True,
                 width="stretch")
    s1, s2, s3 = st.columns(3)
    s1.metric(t("build.saved_size"), f"{rt.saved_bytes / 2**20:.2f} MiB")
    s2.metric(t("build.fresh_differs"), t("build.yes") if rt.fresh_differs else t("build.no"))
    s3.metric(t("build.identical"), t("build.yes") if rt.identical else t("build.no"))
    explain("build.state_lesson")

code_panel(modules_script(seed, n, in_ch, out_ch, kernel, bias, groups, fmap, batch))
