"""Overview: the scorecard of one segment as tiles, the period's gaps worst first, and how fresh
each source's data is."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import queries, ui
from dashboard.units import fmt_delta, fmt_interval, fmt_value

TILES_PER_ROW = 4


def _tile(row: Any) -> None:
    """One KPI: value, change (coloured by whether it is better), sparkline, status badge,
    target, interval and n."""
    st.metric(ui.md_escape(row.name), fmt_value(row.value, row.unit),
              delta=fmt_delta(row.change, row.unit),
              delta_color="normal" if row.direction == "higher_is_better" else "inverse",
              chart_data=row.spark, chart_type="line",
              help=ui.md_escape(row.description) if row.description else None)
    detail = []
    if pd.notna(row.target):
        detail.append(f"target {fmt_value(row.target, row.unit)}")
    interval = fmt_interval(row.ci_low, row.ci_high, row.unit)
    if interval:
        detail.append(f"95% {interval}")
    if pd.notna(row.n):
        detail.append(f"n = {int(row.n):,}")
    st.markdown(" · ".join([ui.badge(row.status), *map(ui.md_escape, detail)]))


ctx = ui.context()
ex, filters = ctx.exports, ctx.filters
ui.require(ex, "marts/kpi_values", "marts/kpi_scorecard")
if filters.start is None:
    st.warning("The exports hold no KPI values yet: run the pipeline for at least one month.")
    st.stop()

st.title(f"Overview · {filters.period}")
segments = ctx.segments
segment = segments[0]
if len(segments) > 1:
    segment = st.segmented_control("Scorecard of", segments, default=segments[0],
                                   format_func=ctx.segment_name, key="overview_segment")
    segment = segment or segments[0]
st.caption(f"Scorecard of **{ui.md_escape(ctx.segment_name(segment))}** against targets; the "
           "change is against the previous period, sparklines show the last 12 periods.")

tiles = queries.tiles(ex, filters.grain, filters.start, segment)
kpis = ctx.kpis()
if not tiles.empty:
    tiles = tiles[tiles["kpi_id"].isin(kpis["kpi_id"])]
if tiles.empty:
    st.info("No KPI values for this segment and period"
            + (" in this programme." if filters.programme else "."))
else:
    # One programme's tiles at a time: a page of 20 metric tiles takes the browser over 2 s
    # to draw on this 2-core machine (benchmarks/README.md); all KPIs are one click away.
    areas = list(dict.fromkeys(tiles["domain"].fillna("")))
    missed = tiles[tiles["status"] == "missed"].groupby(tiles["domain"].fillna("")).size()
    ui.url_choice("area", areas, default=max(areas, key=lambda d: missed.get(d, 0)))
    area = st.segmented_control(
        "Programme", areas, key="p_area", label_visibility="collapsed",
        format_func=lambda d: ctx.options.programmes.get(d, "KPIs")
        + (f" · {missed[d]} missed" if missed.get(d) else ""))
    area = area if area is not None else areas[0]
    ui.set_url_choice("area", area)
    group = tiles[tiles["domain"].fillna("") == area]
    for first in range(0, len(group), TILES_PER_ROW):
        columns = st.columns(TILES_PER_ROW)
        for column, row in zip(columns, group.iloc[first:first + TILES_PER_ROW].itertuples(
                index=False), strict=False):
            with column, st.container(border=True):
                _tile(row)
    table = tiles[["kpi_id", "name", "unit", "value", "ci_low", "ci_high", "n", "reliability",
                   "target", "status", "previous_value", "change"]]
    ui.download(table.assign(segment_id=segment, period=filters.period), "scorecard",
                key="dl_scorecard")

st.subheader("Gaps against targets")
gaps = queries.gaps(ex, filters.grain, filters.start)
gaps = gaps[gaps["kpi_id"].isin(kpis["kpi_id"])]
if ctx.scope is not None:
    gaps = gaps[gaps["segment_id"].isin(ctx.scope)]
if gaps.empty:
    st.success("No missed or at-risk target in this period for the filters chosen.")
else:
    cat = kpis.set_index("kpi_id")
    units = gaps["kpi_id"].map(cat["unit"])
    st.caption("Every segment's missed and at-risk targets, worst impact first (impact = "
               "shortfall % × people affected × weight). *Since*: the first period of the "
               "current run without the target met.")
    shown = pd.DataFrame({
        "Rank": gaps["priority_rank"],
        "KPI": gaps["kpi_id"].map(cat["name"]),
        "Segment": gaps["segment_id"].map(ctx.segment_name),
        "Status": gaps["status"].map(lambda s: ui.STATUS[s][1]),
        "Actual": [fmt_value(v, u) for v, u in zip(gaps["actual"], units, strict=True)],
        "95% interval": [fmt_interval(lo, hi, u) for lo, hi, u
                         in zip(gaps["ci_low"], gaps["ci_high"], units, strict=True)],
        "Target": [fmt_value(v, u) for v, u in zip(gaps["target"], units, strict=True)],
        "Short by": [fmt_value(v, u) for v, u in zip(gaps["shortfall"], units, strict=True)],
        "Short by %": gaps["shortfall_pct"],
        "People affected": gaps["people_affected"],
        "Impact": gaps["impact_tier"],
        "Since": gaps["since"].dt.strftime("%Y-%m"),
        "Owner": gaps["owner"],
    })
    st.dataframe(shown, hide_index=True, column_config={
        "Short by %": st.column_config.NumberColumn(format="%.1f%%"),
        "People affected": st.column_config.NumberColumn(format="localized")})
    ui.download(gaps, "gaps", key="dl_gaps")

thin = queries.insufficient(ex, filters.grain, filters.start)
thin = thin[thin["kpi_id"].isin(kpis["kpi_id"])]
if len(thin):
    with st.expander(f"Too few people to judge: {len(thin)} KPI × segment values suppressed"):
        st.dataframe(pd.DataFrame({
            "KPI": thin["kpi_id"].map(kpis.set_index("kpi_id")["name"]),
            "Segment": thin["segment_id"].map(ctx.segment_name), "n": thin["n"]}),
            hide_index=True)
        ui.download(thin, "suppressed_values", key="dl_suppressed")

st.subheader("Data freshness")
if ex.has("marts/dim_source"):
    fresh = queries.freshness(ex)
    now = pd.Timestamp.now(tz="UTC")
    st.dataframe(pd.DataFrame({
        "Source": fresh["source"].str.capitalize(),
        "Configured": fresh["is_configured"],
        "Last pull": fresh["last_pull_mode"].fillna("never"),
        "Raw records": fresh["raw_records"],
        "Last loaded": fresh["last_loaded_at"].dt.strftime("%Y-%m-%d %H:%M UTC"),
        "Age (hours)": ((now - fresh["last_loaded_at"]).dt.total_seconds() / 3600).round(1),
    }), hide_index=True, column_config={
        "Raw records": st.column_config.NumberColumn(format="localized")})
    ui.download(fresh, "data_freshness", key="dl_freshness")
else:
    st.info("`marts/dim_source.parquet` is not in the exports: source freshness is unknown.")
written = ex.modified_at("marts/kpi_scorecard")
if written is not None:
    st.caption(f"Exports written {written:%Y-%m-%d %H:%M} UTC.")
