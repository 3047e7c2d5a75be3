"""Inside a trained model: what it gets wrong, what its first filters learned, a digit through every layer,
and a canvas where a student draws a digit for every selected model to read."""
import streamlit as st

from core.errors import LabError
from core.images import canvas_to_digit
from core.model_inspect import preference
from core.snapshots import pick_digit
from lab import cache, figures
from lab.cache import fingerprints, manager
from lab.nav import page_for
from lab.runs import held_epoch, run_name, run_names
from lab.snippets.model_inspect import inspect_script
from lab.snippets.training import training_script
from lab.ui import code_panel, explain, lab_error, t, url_choice, url_multiselect
from lab.views import model_inspect as view

st.title(t("inspect.title"))
explain("inspect.intro")

mgr = manager()
known = {v.key: v for v in mgr.trained(fingerprints(), limit=24)}
asked = [k for k in (st.query_params.get("insp_runs") or "").split(",") if k] or st.session_state.get("tr_last_keys", [])
for key in asked:
    if key not in known:
        found = mgr.find(key, fingerprints())
        if found is not None and found.usable:
            known[key] = found
training = page_for("training")
if not known:
    st.info(t("inspect.none"), icon=":material/info:")
    if training is not None:
        st.page_link(training.path, label=t("inspect.none_link"), icon=training.icon)
    st.stop()


def accuracy(key: str) -> float:
    """The test accuracy of the weights the run's model holds."""
    held = held_epoch(known[key])
    return held.test_acc if held else 0.0


ranked = sorted(known, key=lambda k: preference(known[k].config.mistake, accuracy(k), known[k].done.epochs_run),
                reverse=True)  # the best finished runs first, the pitfalls lab's short mistaken runs last
keys = url_multiselect(t("inspect.runs"), ranked, "insp_runs", asked or ranked[:2],
                       format_func=lambda k: t("inspect.run_option", name=run_name(known[k].config),
                                               acc=f"{accuracy(k):.1%}"), max_selections=4)
if not keys:
    st.info(t("inspect.pick"), icon=":material/info:")
    st.stop()
views = [known[k] for k in keys]
names, _ = run_names([v.config for v in views])  # what differs between the chosen runs, in the user's language
focus_key = url_choice(st.selectbox, t("inspect.focus"), keys, key="insp_focus",
                       format_func=lambda k: names[keys.index(k)], help=t("inspect.focus_help"))
focus = known[focus_key]
preds = cache.predictions(focus_key)

TABS = ("confusion", "mistakes", "per_class", "filters", "maps", "why", "draw")
tabs = st.tabs([t(f"inspect.tab_{n}") for n in TABS], key="insp_tab", on_change="rerun")  # "why" computes when open
try:
    with tabs[0]:
        explain("inspect.confusion_intro")
        view.confusion_section(focus, preds)
    with tabs[1]:
        explain("inspect.mistakes_intro")
        view.mistakes_section(focus, preds)
    with tabs[2]:
        explain("inspect.per_class_intro")
        view.per_class_section(views, names)
    with tabs[3]:
        explain("inspect.filters_intro")
        view.filters_section(views, names)
    with tabs[4]:
        explain("inspect.maps_intro")
        index = st.slider(t("inspect.pick_digit"), 0, len(preds.labels) - 1, 0, key="insp_digit",
                          bind="query-params")
        st.caption(t("inspect.digit_truth", true=int(preds.labels[index]), said=int(preds.predicted[index]),
                     p=f"{float(preds.confidence[index]):.0%}"))
        view.maps_section(focus, index)
    with tabs[5]:
        explain("inspect.why_intro")
        data = cache.dataset(focus.config.dataset)
        index = st.slider(t("inspect.pick_digit"), 0, len(preds.labels) - 1,
                          pick_digit(data.test_images, data.test_labels), key="insp_why_digit", bind="query-params")
        st.caption(t("inspect.digit_truth", true=int(preds.labels[index]), said=int(preds.predicted[index]),
                     p=f"{float(preds.confidence[index]):.0%}"))
        if tabs[5].open:  # Captum's maps only for a class that looks at them
            view.why_section(views, names, data.test_images[index], key="insp_why")
except LabError as exc:
    lab_error(exc)


@st.fragment
def draw() -> None:
    """Only this part reruns while the student draws."""
    from streamlit_drawable_canvas import st_canvas  # importing it outside a running page raises

    explain("inspect.draw_intro")
    left, right = st.columns([1, 3])
    with left:
        drawn = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=224,
                          width=224, drawing_mode="freedraw", key="insp_canvas", return_image_data=True)
    try:
        digit = canvas_to_digit(drawn.image_data) if drawn is not None and drawn.image_data is not None else None
        if digit is None:
            raise LabError("image.empty_canvas")
    except LabError as exc:
        right.info(t(f"errors.{exc.code}", **exc.params), icon=":material/draw:")
        return
    left.image(view.big(digit.numpy(), 112), caption=t("inspect.as_seen"))
    figures.show(view.drawn_probabilities(views, names, digit), where=right, key="insp_drawn")
    if st.toggle(t("inspect.why_drawn"), key="insp_why_drawn", help=t("inspect.why_drawn_help")):
        view.why_section(views, names, digit, key="insp_why_drawn_fig")


with tabs[6]:
    draw()

if focus.saved and mgr.store is not None:  # the script reads the saved file; without one it retrains the run
    code_panel(inspect_script(focus.config, str(mgr.store.path(focus_key))))
else:
    code_panel(training_script(focus.config))
