"""LeNet Lab: entry point. Sets up the page, screens the link, the language switch and the navigation."""
import streamlit as st

from lab import cache, ui
from lab.nav import HOME, PAGES

st.set_page_config(page_title="LeNet Lab", page_icon=":material/neurology:", layout="wide")
cache.configure_torch()
ui.language_switch()

sections: dict[str, list] = {}
for spec in PAGES:
    home = spec.url_path == HOME  # served at /, which st.Page gives the default page whatever its url_path
    page = st.Page(spec.path, title=ui.t(spec.title), icon=spec.icon, url_path="" if home else spec.url_path,
                   default=home)
    sections.setdefault(ui.t(spec.section), []).append(page)
    if home:  # /home, the home page's own path, opens it too (hidden from the list, then sent on to /)
        alias = st.Page(spec.path, title=ui.t(spec.title), icon=spec.icon, url_path=HOME, visibility="hidden")
        sections[ui.t(spec.section)].append(alias)
        front = page
nav = st.navigation(sections, expanded=True)  # every page listed: "View more" would hide the last ones
if nav is alias:  # the link's values go along; a value bound to a control on show stays with Streamlit
    st.switch_page(front, query_params={k: v for k, v in st.query_params.to_dict().items() if k not in st.session_state})
asked = ui.screen_link()  # before any bound widget: a value its control cannot take leaves the URL (and is noted)

ui.presenter_switch()
data = cache.digits()
if data.fallback_reason:
    st.sidebar.warning(ui.t(f"data.fallback_{data.fallback_reason}"), icon=":material/warning:")
    if data.fallback_detail:  # which file and what was wrong, for the teacher
        st.sidebar.caption(ui.t("data.fallback_detail", detail=data.fallback_detail))
st.sidebar.caption(ui.t(f"data.source_{data.source}", train=len(data.train_labels), test=len(data.test_labels)))
with ui.link_notes(nav.url_path or HOME, asked):  # what the link asked for and could not have, on top of the page
    nav.run()
cache.page_drawn()  # the first page is out: the background warm-up of the other pages may start
