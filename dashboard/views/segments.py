"""Segments: every KPI as a trend per segment with its 95% interval and target, suppressed
values greyed with their n, and the segments side by side for the selected period."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, queries, ui
from dashboard.units import fmt_interval, fmt_value


def _cell(row: Any) -> str:
    """`62.3% (58.1–66.0%) · Missed`, or `suppressed (n = 4)`."""
    if pd.isna(row.value):
        return f"suppressed (n = {row.n})"
    interval = fmt_interval(row.ci_low, row.ci_high, row.unit)
    text = fmt_value(row.value, row.unit) + (f" ({interval})" if interval else "")
    return text + (f" · {ui.STATUS[row.status][1]}" if isinstance(row.status, str) else "")


ctx = ui.context()
ex, filters = ctx.exports, ctx.filters
ui.require(ex, "marts/kpi_values", "marts/kpi_scorecard")

segments = ctx.segments
st.title("Segments")
if "all" not in segments and st.toggle("Add everyone for reference", key="segments_reference"):
    segments = [*segments, "all"]
names = ", ".join(ctx.segment_name(s) for s in segments)
st.caption(f"**{ui.md_escape(names)}** by {filters.grain}: the value with its 95% interval "
           "(band) and the target (dashed); grey crosses are values suppressed for too few "
           "people, with their n. Pick segments in the sidebar to compare them.")

kpis = ctx.kpis()
data = queries.trends(ex, filters.grain, segments)
data = data[data["kpi_id"].isin(kpis["kpi_id"])].assign(
    segment=lambda d: d["segment_id"].map(ctx.segment_name))
if data.empty:
    st.info("No KPI values for these segments" +
            (" in this programme." if filters.programme else "."))
    st.stop()
kpis = kpis[kpis["kpi_id"].isin(data["kpi_id"])]

if filters.start is not None:
    st.subheader(f"Side by side · {filters.period}")
    now = data[data["period_start"] == pd.Timestamp(filters.start)].merge(
        kpis[["kpi_id", "name", "unit"]], on="kpi_id")
    if now.empty:
        st.info("No values in this period.")
    else:
        now["cell"] = [_cell(r) for r in now.itertuples(index=False)]
        table = now.pivot_table(index="name", columns="segment", values="cell",
                                aggfunc="first", sort=False)
        table = table.reindex(index=[n for n in kpis["name"] if n in table.index],
                              columns=[ctx.segment_name(s) for s in segments
                                       if ctx.segment_name(s) in table.columns])
        table.index.name, table.columns.name = "KPI", None
        st.dataframe(table, width="stretch", height=36 * (len(table) + 1) + 2)
        ui.download(now.drop(columns=["cell"]), f"segments_{filters.period}", key="dl_side")

st.subheader("Trends")
frame = charts.trend_frame(data, kpis, filters.start)
st.altair_chart(charts.kpi_trends(frame))
ui.download(data[["kpi_id", "segment_id", "segment", "period_start", "value", "ci_low", "ci_high",
                  "n", "reliability", "target", "status"]],
            f"trends_{filters.grain}", key="dl_trends")
