"""Data quality: the last validation runs, each source entity's latest check and the rows in
quarantine per source and rule. Counts only: quarantined records stay in the warehouse."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, queries, ui

ctx = ui.context()
ex = ctx.exports
st.title("Data quality")
if not ex.has("quality/validation_runs"):
    st.info("The validation history is not in the exports (`exports/quality/`). Every pipeline "
            "run writes it after validating new loads: run the pipeline again to see it here.")
    st.stop()
st.caption("Counts only: the quarantined records themselves, and the example values of failed "
           "checks, stay in the warehouse (they may hold personal data).")

runs = queries.validation_runs(ex)
if runs.empty:
    st.info("No validation run yet.")
else:
    last = runs.iloc[0]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Last run", f"{last['finished_at']:%Y-%m-%d %H:%M} UTC")
    c2.metric("Result", "passed" if last["passed"] else "blocked")
    c3.metric("Rows checked", f"{int(last['rows_checked']):,}")
    c4.metric("Rows quarantined", f"{int(last['rows_quarantined']):,}")
    st.subheader("Validation runs")
    st.dataframe(pd.DataFrame({
        "Started": runs["started_at"].dt.strftime("%Y-%m-%d %H:%M"),
        "Seconds": (runs["finished_at"] - runs["started_at"]).dt.total_seconds().round(1),
        "Entities": runs["entities"], "Rows checked": runs["rows_checked"],
        "Rows quarantined": runs["rows_quarantined"], "Passed": runs["passed"],
        "Run": runs["run_id"]}), hide_index=True, column_config={
        "Rows checked": st.column_config.NumberColumn(format="localized"),
        "Rows quarantined": st.column_config.NumberColumn(format="localized")})
    ui.download(runs, "validation_runs", key="dl_runs")

if ex.has("quality/validation_entities"):
    st.subheader("Latest check per source entity")
    checks = queries.latest_entity_checks(ex)
    st.dataframe(pd.DataFrame({
        "Source": checks["source"], "Entity": checks["entity"],
        "Validated": checks["validated_at"].dt.strftime("%Y-%m-%d %H:%M"),
        "Rows checked": checks["rows_checked"], "Rows quarantined": checks["rows_quarantined"],
        "Passed": checks["passed"], "Blocking failures": checks["blocking_failures"],
        "Warnings": checks["warnings"]}), hide_index=True, column_config={
        "Rows checked": st.column_config.NumberColumn(format="localized")})
    ui.download(checks, "latest_checks", key="dl_checks")

st.subheader("Quarantined rows per source")
held = queries.quarantine(ex) if ex.has("quality/quarantine_summary") else pd.DataFrame()
if held.empty:
    st.success("No rows in quarantine.")
else:
    per_source = held.groupby("source", as_index=False)["quarantined_rows"].sum()
    st.altair_chart(charts.counts_by(per_source, "source", "quarantined_rows",
                                     "Rows in quarantine"), width="stretch")
    st.dataframe(held, hide_index=True)
    ui.download(held, "quarantine_by_rule", key="dl_quarantine")
