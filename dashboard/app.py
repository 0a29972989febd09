"""Entry point of `streamlit run`: page set-up, the shared sidebar filters, navigation."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import streamlit as st

from dashboard import queries, ui
from dashboard.data import Exports

VIEWS = Path(__file__).with_name("views")
# url path -> the page's own query parameters (kept beside the shared filters)
PAGE_PARAMS = {"": ("area",), "root_causes": ("group", "category", "issue"),
               "corrective_actions": ("action",), "experiments": ("experiment",)}

# No icons: a page's icon becomes the favicon, and Material icons are fetched from
# fonts.gstatic.com (the dashboard must work offline); the default favicon is served locally.
# Each page's URL path is its file name; the default page (Overview) is at `/`.
st.set_page_config(page_title="SayPro Insights", layout="wide")
page = st.navigation([
    st.Page(VIEWS / "overview.py", title="Overview", default=True),
    st.Page(VIEWS / "segments.py", title="Segments"),
    st.Page(VIEWS / "root_causes.py", title="Root causes"),
    st.Page(VIEWS / "corrective_actions.py", title="Corrective actions"),
    st.Page(VIEWS / "experiments.py", title="Experiments"),
    st.Page(VIEWS / "data_quality.py", title="Data quality"),
])
exports = Exports.from_env()
try:
    options = queries.options(exports)
    filters, notes = ui.sidebar_filters(options)
    ui.sync_url(filters.to_params(), keep=PAGE_PARAMS.get(page.url_path, ()))
    for note in notes:
        st.sidebar.caption(f"Link: {ui.md_escape(note)}.")
    st.session_state["_context"] = ui.Context(exports, options, filters)
    page.run()
except duckdb.Error as error:  # exports of another version, or damaged: say so, log the rest
    logging.getLogger(__name__).exception("reading the exports in %s", exports.root)
    st.error(f"The exports in {ui.md_escape(exports.root)} could not be read "
             f"({type(error).__name__}). Run the pipeline again to rewrite them; the server "
             "log has the details.")
