"""Corrective actions: the register (owner, due date, status), each action's KPI before it
started and now with 95% intervals, the share of the gap to target closed, overdue flags, and
one action's KPI over time."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard import charts, queries, ui
from dashboard.units import fmt_interval, fmt_value

ctx = ui.context()
ex, filters = ctx.exports, ctx.filters
st.title("Corrective actions")
if not ex.has("reference/corrective_actions"):
    st.info("The corrective-action register is not in the exports. It is the dbt seed "
            "`corrective_actions` (dbt_project/seeds/corrective_actions.csv), exported to "
            "`exports/reference/corrective_actions.parquet` by every pipeline run: run the "
            "pipeline again to see it here.")
    st.stop()
ui.require(ex, "marts/kpi_values", "marts/kpi_scorecard")
if filters.end is None:
    st.warning("The exports hold no KPI values yet: run the pipeline for at least one month.")
    st.stop()

today = min(filters.end - timedelta(days=1), date.today())
kpis = queries.catalog(ex).set_index("kpi_id")
actions = queries.action_progress(queries.corrective_actions(ex, filters.end),
                                  kpis["direction"], today)
total = len(actions)
if filters.programme:
    actions = actions[actions["kpi_id"].map(kpis["domain"]) == filters.programme]
if ctx.scope is not None:
    actions = actions[actions["segment_id"].isin(ctx.scope)]
st.caption(f"Actions started by the end of {filters.period}, read on {today:%Y-%m-%d}. KPI "
           "values by month: *before* is the last month before the action started, *latest* "
           "the last month since. *Gap closed*: how much of the distance from before to target "
           "is covered. *Verdict*, the quarterly review's rule: working when the target is met "
           "or the value is better beyond both 95% intervals (10% for KPIs without one); not "
           "working when worse beyond them, or no clear change once closed or overdue; else "
           "not yet. Overdue: due and not closed."
           + (f" Showing {len(actions)} of {total} actions (filters)." if len(actions) < total
              else ""))
if actions.empty:
    st.info("No corrective action for these filters.")
    st.stop()

units = actions["kpi_id"].map(kpis["unit"])


def _side(prefix: str) -> list[str]:
    """`62.0% (58.1–65.7%) in 2025-08`, one per action."""
    cells = []
    for value, low, high, month, unit in zip(
            actions[f"{prefix}_value"], actions[f"{prefix}_ci_low"], actions[f"{prefix}_ci_high"],
            actions[f"{prefix}_month"], units, strict=True):
        if pd.isna(value):
            cells.append("–")
            continue
        interval = fmt_interval(low, high, unit)
        cells.append(fmt_value(value, unit) + (f" ({interval})" if interval else "")
                     + f" in {month:%Y-%m}")
    return cells


status = actions["status"].str.replace("_", " ")
if "closed_date" in actions:  # registers exported before it was added lack it
    status += pd.to_datetime(actions["closed_date"]).dt.strftime(" (closed %Y-%m-%d)").fillna("")
overdue = actions["days_overdue"].notna()
c1, c2, c3, c4 = st.columns(4)
c1.metric("Actions", len(actions))
c2.metric("Overdue", int(overdue.sum()))
c3.metric("Working", int((actions["verdict"] == "working").sum()))
c4.metric("Closed", int(actions["is_closed"].sum()))

st.dataframe(pd.DataFrame({
    "Action": actions["action_id"] + ": " + actions["action"],
    "KPI · segment": actions["kpi_id"].map(kpis["name"]).fillna(actions["kpi_id"]) + " · "
    + actions["segment_id"].map(ctx.segment_name),
    "Owner": actions["owner"],
    "Due": actions["due_date"].dt.strftime("%Y-%m-%d"),
    "Status": status,
    "Overdue": [f"⚠ {int(d)} days" if pd.notna(d) else "" for d in actions["days_overdue"]],
    "Before": _side("before"), "Latest": _side("latest"),
    "Target": [fmt_value(t, u) for t, u in zip(actions["target"], units, strict=True)],
    "Gap closed": actions["gap_closed_pct"].clip(0, 100),
    "Verdict": actions["verdict"] + ": " + actions["verdict_reason"],
}), hide_index=True, column_config={
    "Action": st.column_config.TextColumn(width="large"),
    "Gap closed": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f%%")})
ui.download(actions, f"corrective_actions_{filters.period}", key="dl_actions")

st.subheader("One action over time")
ids = actions["action_id"].tolist()
ui.url_choice("action", ids, default=ids[0])
labels = dict(zip(ids, actions["action_id"] + ": " + actions["action"], strict=True))
picked = st.selectbox("Action", ids, key="p_action", format_func=labels.get)
ui.set_url_choice("action", picked)
action = actions[actions["action_id"] == picked].iloc[0]
history = queries.trends(ex, "month", [action["segment_id"]])
history = history[history["kpi_id"] == action["kpi_id"]].assign(
    segment=ctx.segment_name(action["segment_id"]))
if history.empty:
    st.info("No monthly values of this KPI for this segment yet.")
else:
    frame = charts.trend_frame(history, kpis.reset_index(), None)
    st.altair_chart(charts.action_trend(frame, action["start_date"].date(),
                                        action["due_date"].date()), width="stretch")
    ui.download(history, f"action_{picked}_kpi", key="dl_action_trend")
