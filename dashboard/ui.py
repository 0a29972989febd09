"""Streamlit pieces the pages share: the sidebar filters kept in the URL, the missing-export
message, CSV downloads, status badges and escaping of data text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import queries
from dashboard.data import Exports
from dashboard.filters import (
    GRAINS,
    FilterOptions,
    Filters,
    parse_params,
    period_label,
    period_start,
)

STATUS = {"met": ("green", "Met"), "at_risk": ("orange", "At risk"),
          "missed": ("red", "Missed"), "insufficient_data": ("gray", "Insufficient data")}
ALL = ""  # the "all" choice of a selectbox (province, programme, drill); None shows as unset
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Context:
    """What every page works with: the exports, the filters' options and their values."""

    exports: Exports
    options: FilterOptions
    filters: Filters

    @property
    def segments(self) -> list[str]:
        return self.filters.effective_segments(self.options)

    @property
    def scope(self) -> list[str] | None:
        """Segments that lists across segments (gaps, actions) keep: the picked ones, else all
        of the province's, else None (no narrowing)."""
        if self.filters.segments:
            return list(self.filters.segments)
        if self.filters.province:
            return self.options.segments_for(self.filters.province)
        return None

    def segment_name(self, segment_id: str | None) -> str:
        if segment_id is None or pd.isna(segment_id):
            return "–"
        return self.options.segments.get(segment_id, segment_id)

    def kpis(self) -> pd.DataFrame:
        """The catalogue, narrowed to the programme filter."""
        cat = queries.catalog(self.exports)
        if self.filters.programme:
            cat = cat[cat["domain"] == self.filters.programme]
        return cat


def context() -> Context:
    """The context app.py stored for this run."""
    return st.session_state["_context"]


def md_escape(text: object) -> str:
    """Data text shown through Markdown, with every Markdown character escaped (Streamlit never
    renders HTML from it; this also keeps data from forming links or formatting)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def badge(status: str | None) -> str:
    """A coloured Markdown badge for a scorecard status (`No target` when there is none)."""
    colour, label = STATUS.get(status or "", ("gray", "No target"))
    return f":{colour}-badge[{label}]"


def require(ex: Exports, *names: str) -> None:
    """Stop the page with a clear message when an export it needs is missing."""
    missing = ex.missing(*names)
    if not missing:
        return
    files = ", ".join(f"`{name}.parquet`" for name in missing)
    if not ex.root.is_dir():
        st.warning(f"No exports yet: the folder {md_escape(ex.root)} does not exist. Run the "
                   "pipeline first (`make demo` for the sample organisation, or `saypro run "
                   "--from YYYY-MM --to YYYY-MM`), or point `SAYPRO_DATA_DIR` at a data dir "
                   "that has them.")
    else:
        st.warning(f"This page needs {files}, missing in {md_escape(ex.root)}. Every pipeline "
                   "run writes the exports (`make demo`, or `saypro run --from YYYY-MM --to "
                   "YYYY-MM`); an older run may predate some of them.")
    st.stop()


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV of a chart's data. Text cells that a spreadsheet would run as a formula get a
    leading apostrophe (CSV injection)."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: f"'{v}" if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return out.to_csv(index=False).encode()


def download(df: pd.DataFrame, name: str, key: str) -> None:
    """A button that downloads `df` as `<name>.csv`."""
    st.download_button("Download CSV", csv_bytes(df), file_name=f"{name}.csv", mime="text/csv",
                       key=key, on_click="ignore", icon=":material/download:")


def sidebar_filters(opts: FilterOptions) -> tuple[Filters, list[str]]:
    """The filter widgets. The first run of a session takes their values from the link's query
    parameters; every run writes the current values back to the address bar."""
    state = st.session_state
    notes: list[str] = []
    if "f_grain" not in state:
        params = {key: st.query_params.get_all(key) for key in st.query_params}
        initial, notes = parse_params(params, opts)
        state.f_grain, state.f_period = initial.grain, initial.period
        state.f_province, state.f_programme = initial.province or ALL, initial.programme or ALL
        state.f_segments = list(initial.segments)
    sidebar = st.sidebar
    sidebar.radio("Period", GRAINS, key="f_grain", horizontal=True, format_func=str.title,
                  on_change=_regrain, args=(opts,))
    labels = opts.periods.get(state.f_grain, [])
    if state.f_period not in labels:
        state.f_period = opts.default_periods.get(state.f_grain)
    sidebar.selectbox("Period", labels, key="f_period", label_visibility="collapsed",
                      placeholder="no periods in the exports")
    sidebar.selectbox("Province", [ALL, *opts.provinces], key="f_province",
                      format_func=lambda p: opts.provinces.get(p, "All provinces"))
    allowed = opts.segments_for(state.f_province or None)
    state.f_segments = [s for s in state.f_segments if s in allowed]
    sidebar.multiselect("Segments", allowed, key="f_segments", format_func=opts.segments.get,
                        placeholder="The province" if state.f_province else "Everyone")
    sidebar.selectbox("Programme", [ALL, *opts.programmes], key="f_programme",
                      format_func=lambda p: opts.programmes.get(p, "All programmes"))
    sidebar.caption("The address bar keeps these filters: copy it to share this view.")
    filters = Filters(state.f_grain, state.f_period, tuple(state.f_segments),
                      state.f_programme or None, state.f_province or None)
    return filters, notes


def _regrain(opts: FilterOptions) -> None:
    """Keep the period when the grain changes: a month's quarter, or a quarter's last month
    with data."""
    state = st.session_state
    old = "month" if state.f_grain == "quarter" else "quarter"
    start = period_start(state.f_period or "", old)
    if start is None:
        return
    if state.f_grain == "quarter":
        state.f_period = period_label(start.replace(month=(start.month - 1) // 3 * 3 + 1),
                                      "quarter")
        return
    months = [period_label(start.replace(month=start.month + i), "month") for i in (2, 1, 0)]
    state.f_period = next((m for m in months if m in opts.periods.get("month", [])), None)


def sync_url(params: dict[str, str | list[str]], keep: Sequence[str] = ()) -> None:
    """Make the address bar's query parameters `params`, leaving the page's own `keep` keys."""
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    wanted = {key: value if isinstance(value, list) else [value]
              for key, value in params.items()}
    for key in set(current) - set(wanted) - set(keep):
        del st.query_params[key]
    for key, values in wanted.items():
        if current.get(key) != values:
            st.query_params[key] = values


def url_choice(key: str, choices: Sequence[str], default: str = ALL) -> None:
    """Prepare the session value of a page's own selectbox (key `p_<key>`) kept in the URL as
    `?<key>=...`: on the first run with the widget, the link's value when it is one of
    `choices`; `default` then, and whenever the value is no longer a choice."""
    state_key = f"p_{key}"
    if state_key not in st.session_state:
        value = st.query_params.get(key)
        st.session_state[state_key] = value if value in choices else default
    elif st.session_state[state_key] not in (*choices, default):
        st.session_state[state_key] = default


def set_url_choice(key: str, value: str | None) -> None:
    """Write a page's own choice to the address bar (or remove it: None or ALL)."""
    if not value:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value
