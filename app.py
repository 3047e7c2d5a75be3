"""LeNet Lab: entry point. Sets up the page, the language switch and the navigation."""
import streamlit as st

from lab import cache, ui
from lab.nav import PAGES

st.set_page_config(page_title="LeNet Lab", page_icon=":material/neurology:", layout="wide")
cache.configure_torch()
ui.language_switch()

sections: dict[str, list] = {}
for spec in PAGES:
    page = st.Page(spec.path, title=ui.t(spec.title), icon=spec.icon, url_path=spec.url_path,
                   default=spec.url_path == "home")
    sections.setdefault(ui.t(spec.section), []).append(page)
nav = st.navigation(sections, expanded=True)  # every page listed: "View more" would hide the last ones

ui.presenter_switch()
data = cache.digits()
if data.fallback_reason:
    st.sidebar.warning(ui.t(f"data.fallback_{data.fallback_reason}"), icon=":material/warning:")
    if data.fallback_detail:  # which file and what was wrong, for the teacher
        st.sidebar.caption(ui.t("data.fallback_detail", detail=data.fallback_detail))
st.sidebar.caption(ui.t(f"data.source_{data.source}", train=len(data.train_labels), test=len(data.test_labels)))
nav.run()
