"""Root causes: the tickets' Pareto with the 80% line, drilled from fishbone group to category to
issue type, the drilled tickets by month, recurring issues and measured drivers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, queries, ui

URL_KEYS = {"fishbone_group": "group", "category": "category", "issue_type": "issue"}

ctx = ui.context()
ex, filters = ctx.exports, ctx.filters
ui.require(ex, "marts/rca_pareto", "marts/fct_tickets", "marts/rca_recurring_issues",
           "marts/fct_segment_membership")
if filters.start is None or filters.end is None:
    st.warning("The exports hold no periods yet: run the pipeline for at least one month.")
    st.stop()

segments = ctx.segments
st.title(f"Root causes · {filters.period}")
who = ", ".join(ctx.segment_name(s) for s in segments)
st.caption(f"Helpdesk tickets created in the period by **{ui.md_escape(who)}** (a requester "
           "counts for a segment they belonged to in the ticket's month). Drill down from "
           "fishbone group to category to issue type; the programme filter does not apply.")

parents: dict[str, str] = {}
columns = st.columns(3)
level = "fishbone_group"
table = pd.DataFrame()
for position, level in enumerate(queries.PARETO_LEVELS):
    table = queries.pareto(ex, filters.grain, filters.start, level, segments, dict(parents))
    key = URL_KEYS[level]
    items = table["item"].tolist()
    ui.url_choice(key, items)
    with columns[position]:
        choice = st.selectbox(queries.LEVEL_LABELS[level].capitalize(), [ui.ALL, *items],
                              key=f"p_{key}", format_func=lambda v: v or "All")
    ui.set_url_choice(key, choice)
    if not choice:
        for deeper in queries.PARETO_LEVELS[position + 1:]:
            ui.set_url_choice(URL_KEYS[deeper], None)
        break
    if level != "issue_type":
        parents[level] = choice

if table.empty:
    st.info("No tickets in this period for these segments.")
    st.stop()

label = queries.LEVEL_LABELS[level]
path = " › ".join(parents.values())
st.subheader(f"Pareto of {label}s" + (f" within {path}" if path else ""))
st.caption(f"{int(table['tickets'].sum()):,} tickets; the vital few (red) are the fewest "
           f"{label}s that together reach 80% of them.")
st.altair_chart(charts.pareto(table, label), width="stretch")
ui.download(table.assign(dimension=level, period=filters.period, **{
    f"within_{k}": v for k, v in parents.items()}), f"pareto_{level}_{filters.period}",
    key="dl_pareto")

issue = st.session_state.get("p_issue") or None
drill = {**parents, **({"issue_type": issue} if issue else {})}
st.subheader("Tickets per month" + (f" · {' › '.join(drill.values())}" if drill else ""))
trend = queries.ticket_trend(ex, filters.end, segments, drill)
st.altair_chart(charts.tickets_per_month(trend), width="stretch")
ui.download(trend, "tickets_per_month", key="dl_ticket_trend")

st.subheader("Recurring issues")
recurring = queries.recurring(ex, filters.start, filters.end)
if issue:
    recurring = recurring[recurring["issue_type"] == issue]
elif parents:
    recurring = recurring[recurring["issue_type"].isin(queries.issue_types_under(ex, parents))]
if recurring.empty:
    st.info("No issue types for this drill in the period.")
else:
    st.caption("Recurring: in the vital few of ≥ 2 of the last 3 months. Scope: segment-specific "
               "when one segment's share of the issue is ≥ 2× everyone's (lift).")
    shown = pd.DataFrame({
        "Month": recurring["month_start"].dt.strftime("%Y-%m"),
        "Issue type": recurring["issue_type"], "Category": recurring["category"],
        "Tickets": recurring["tickets"], "Recurring": recurring["is_recurring"],
        "Months in vital few (of 3)": recurring["months_in_vital_few_last_3"],
        "Reopen rate": recurring["reopen_rate"] * 100,
        "Top segment": recurring["top_segment_id"].map(ctx.segment_name),
        "Lift": recurring["segment_lift"], "Scope": recurring["scope"],
        "KB articles": recurring["kb_articles"],
        "KB helpfulness": recurring["kb_helpfulness"] * 100,
    })
    if segments != ["all"]:
        shown.insert(8, "Top segment is picked", recurring["top_segment_id"].isin(segments))
    st.dataframe(shown, hide_index=True, column_config={
        "Reopen rate": st.column_config.NumberColumn(format="%.1f%%"),
        "Lift": st.column_config.NumberColumn(format="%.2f×"),
        "KB helpfulness": st.column_config.NumberColumn(format="%.0f%%")})
    ui.download(recurring, f"recurring_issues_{filters.period}", key="dl_recurring")

if ex.has("marts/rca_driver_hints"):
    hints = queries.driver_hints(ex, filters.grain, filters.start)
    if len(hints):
        st.subheader("Measured drivers")
        names = queries.catalog(ex).set_index("kpi_id")["name"]
        st.dataframe(pd.DataFrame({
            "KPI": hints["kpi_id"].map(names).fillna(hints["kpi_id"]),
            "Finding": hints["description"], "Strength": hints["strength"],
            "n": hints["n"]}), hide_index=True,
            column_config={"Finding": st.column_config.TextColumn(width="large")})
        ui.download(hints, f"driver_hints_{filters.period}", key="dl_hints")
