"""Monthly support report SCMR-5 (`support_monthly_YYYY-MM`), from the marts only."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from reports.common import (
    Finding,
    Marts,
    ReportResult,
    bar_chart,
    line_chart,
    minutes,
    month_start,
    number,
    pct,
    render,
    source_notes,
)
from reports.experiments import add_experiments

HEADLINES = [  # (support_monthly column, KPI id for the target, label, formatter)
    ("tickets_created", "ticket_volume", "Tickets created", number),
    ("tickets_solved", None, "Tickets solved", number),
    ("median_first_reply_minutes", "first_reply_median_minutes", "Median first reply", minutes),
    ("p90_first_reply_minutes", None, "90th percentile first reply", minutes),
    ("median_full_resolution_minutes", None, "Median full resolution", minutes),
    ("frt_sla_compliance", "frt_sla_compliance", "First-reply SLA compliance", pct),
    ("resolution_sla_compliance", "resolution_sla_compliance", "Resolution SLA compliance", pct),
    ("reopen_rate", "reopen_rate", "Reopen rate", pct),
    ("csat", "ticket_csat", "CSAT (good / rated)", pct),
    ("backlog_end_of_month", None, "Backlog at month end", number),
]


def _previous_month(start: date) -> date:
    return date(start.year - (start.month == 1), (start.month - 2) % 12 + 1, 1)


def _table(frame: pd.DataFrame, columns: dict[str, Any]) -> dict[str, Any]:
    rows = [{label: fmt(row[col]) for label, (col, fmt) in columns.items()}
            for _, row in frame.iterrows()]
    return {"columns": list(columns), "rows": rows}


def render_support_monthly(warehouse: Path, month: str, out_dir: Path) -> ReportResult:
    start = month_start(month)
    previous = _previous_month(start)
    marts = Marts(Path(warehouse))
    try:
        return _render(marts, month, start, previous, Path(out_dir))
    finally:
        marts.close()


def _render(marts: Marts, month: str, start: date, previous: date,
            out_dir: Path) -> ReportResult:
    monthly = marts.query("support_monthly", "SELECT * FROM marts.support_monthly "
                          "WHERE month_start IN (?, ?)", [start, previous])
    if not len(monthly):
        monthly = pd.DataFrame(columns=["month_start", *(h[0] for h in HEADLINES)])
    this = monthly[monthly.month_start == pd.Timestamp(start)]
    before = monthly[monthly.month_start == pd.Timestamp(previous)]
    targets = marts.query("kpi_scorecard", "SELECT kpi_id, target, status FROM "
                          "marts.kpi_scorecard WHERE period_grain = 'month' "
                          "AND period_start = ? AND segment_id = 'all'", [start])
    targets = targets.set_index("kpi_id") if len(targets) else pd.DataFrame(
        columns=["target", "status"])
    findings: list[Finding] = []
    notes: list[str] = []
    sections: list[dict[str, Any]] = []

    rows = []
    for column, kpi, label, fmt in HEADLINES:
        value = this[column].iloc[0] if len(this) and column in this else None
        prior = before[column].iloc[0] if len(before) and column in before else None
        target = targets.loc[kpi, "target"] if kpi and kpi in targets.index else None
        status = targets.loc[kpi, "status"] if kpi and kpi in targets.index else ""
        rows.append({"Measure": label, "This month": fmt(value), "Previous month": fmt(prior),
                     "Target": fmt(target) if target is not None else "", "Status": status,
                     "_class": status})
    sections.append({"id": "fig-headlines", "title": "Headline figures against the previous "
                     "month and the target",
                     "table": {"columns": ["Measure", "This month", "Previous month", "Target",
                                           "Status"], "rows": rows}})
    if len(this):
        row = this.iloc[0]
        text = f"{int(row.tickets_created):,} tickets were created in {month}"
        if len(before) and before.tickets_created.iloc[0]:
            change = row.tickets_created / before.tickets_created.iloc[0] - 1
            text += f", {change:+.0%} on the previous month"
        findings.append(Finding(text + ".", "fig-headlines"))
        if len(before) and pd.notna(row.median_first_reply_minutes) and pd.notna(
                before.median_first_reply_minutes.iloc[0]):
            ratio = row.median_first_reply_minutes / before.median_first_reply_minutes.iloc[0]
            findings.append(Finding(
                f"The median first reply took {minutes(row.median_first_reply_minutes)} "
                f"({ratio:.1f} times the previous month's "
                f"{minutes(before.median_first_reply_minutes.iloc[0])}).", "fig-headlines"))
        if "ticket_csat" in targets.index and pd.notna(row.csat):
            t = targets.loc["ticket_csat"]
            findings.append(Finding(f"Ticket CSAT was {pct(row.csat)} against a target of "
                                    f"{pct(t.target)} ({t.status}).", "fig-headlines",
                                    "target"))
    elif "zendesk" not in marts.sources_not_configured():
        notes.append(f"support_monthly has no row for {month}: no tickets were created in the "
                     "month, or the month has not been built yet.")

    tickets = marts.query("fct_tickets", "SELECT category, channel, priority, frt_sla_status, "
                          "resolution_sla_status FROM marts.fct_tickets WHERE created_month = ?",
                          [start])
    if len(tickets):
        by_category = tickets.category.value_counts()
        sections.append({"id": "fig-volume-category", "title": "Ticket volume by category",
                         "chart": bar_chart(list(by_category.index), list(by_category.values),
                                            f"Tickets by category, {month}", "tickets")})
        top = by_category.index[0]
        findings.append(Finding(f"{top} was the largest category with {by_category.iloc[0]:,} "
                                f"tickets ({by_category.iloc[0] / len(tickets):.0%}).",
                                "fig-volume-category"))
        by_channel = tickets.channel.fillna("unknown").value_counts()
        sections.append({"id": "fig-volume-channel", "title": "Ticket volume by channel",
                         "table": {"columns": ["Channel", "Tickets"], "rows": [
                             {"Channel": k, "Tickets": f"{v:,}"} for k, v in by_channel.items()]}})
        sla_rows = []
        for priority, group in tickets.groupby(tickets.priority.fillna("none")):
            frt = group.frt_sla_status.value_counts()
            res = group.resolution_sla_status.value_counts()
            sla_rows.append({
                "Priority": priority, "Tickets": len(group),
                "First-reply SLA": pct(frt.get("met", 0) / max(frt.get("met", 0)
                                                               + frt.get("breached", 0), 1)),
                "Resolution SLA": pct(res.get("met", 0) / max(res.get("met", 0)
                                                              + res.get("breached", 0), 1))})
        sections.append({"id": "fig-sla-priority", "title": "SLA compliance by priority",
                         "text": "Compliance = met / (met + breached); targets from seed "
                                 "sla_targets.",
                         "table": {"columns": list(sla_rows[0]), "rows": sla_rows}})

    backlog = marts.query("fct_ticket_backlog_daily", "SELECT day, sum(backlog_tickets) AS b "
                          "FROM marts.fct_ticket_backlog_daily WHERE day >= ? AND day < "
                          "? GROUP BY day ORDER BY day",
                          [start, pd.Timestamp(start) + pd.offsets.MonthBegin(1)])
    if len(backlog):
        sections.append({"id": "fig-backlog", "title": "Backlog trend",
                         "chart": line_chart(list(backlog.day), {"open tickets": list(backlog.b)},
                                             f"Open tickets at the end of each day, {month}")})

    traffic = marts.query("agg_web_traffic_monthly", "SELECT * FROM marts.agg_web_traffic_monthly"
                          " WHERE month_start = ? ORDER BY visits DESC", [start])
    if len(traffic):
        sections.append({"id": "fig-web", "title": "Site traffic and ad engagement",
                         "table": _table(traffic, {
                             "Channel": ("channel", str), "Visits": ("visits", number),
                             "Unique visitors": ("unique_visitors", number),
                             "Pages/visit": ("pages_per_visit", lambda v: number(v, 2)),
                             "Bounce rate": ("bounce_rate", pct), "Ad CTR": ("ad_ctr", pct),
                             "Conversion": ("conversion_rate", pct)})})
        total = traffic[traffic.channel == "all"]
        if len(total):
            t = total.iloc[0]
            findings.append(Finding(f"The site had {int(t.visits):,} visits from "
                                    f"{int(t.unique_visitors):,} unique visitors; "
                                    f"{pct(t.conversion_rate)} of visits converted and the ad "
                                    f"click-through rate was {pct(t.ad_ctr)}.", "fig-web"))
    pages = marts.query("agg_web_pages_monthly", "SELECT page, pageviews, entries, exits FROM "
                        "marts.agg_web_pages_monthly WHERE month_start = ? ORDER BY entries "
                        "DESC LIMIT 10", [start])
    if len(pages):
        sections.append({"id": "fig-pages", "title": "Top landing pages",
                         "table": _table(pages, {"Page": ("page", str),
                                                 "Entries": ("entries", number),
                                                 "Page views": ("pageviews", number),
                                                 "Exits": ("exits", number)})})

    recurring = marts.query("rca_recurring_issues", "SELECT * FROM marts.rca_recurring_issues "
                            "WHERE month_start = ? ORDER BY tickets DESC", [start])
    if len(recurring):
        sections.append({"id": "fig-recurring", "title": "Top recurring issues and "
                         "knowledge-base coverage", "table": _table(recurring.head(10), {
                             "Issue type": ("issue_type", str), "Category": ("category", str),
                             "Tickets": ("tickets", number),
                             "Months in vital few (of 3)": ("months_in_vital_few_last_3", number),
                             "Recurring": ("is_recurring", lambda v: "yes" if v else "no"),
                             "Reopen rate": ("reopen_rate", pct),
                             "KB articles": ("kb_articles", number),
                             "KB helpfulness": ("kb_helpfulness", pct)})})
        for _, issue in recurring[recurring.is_recurring.fillna(False)].head(3).iterrows():
            findings.append(Finding(
                f"{issue.issue_type} is a recurring issue: in the vital few in "
                f"{int(issue.months_in_vital_few_last_3)} of the last 3 months, "
                f"{int(issue.tickets):,} tickets in {month}.", "fig-recurring", "rca"))
        gaps = recurring[(recurring.kb_articles.fillna(0) == 0)
                         | (recurring.kb_helpfulness.fillna(1) < 0.5)]
        gaps = gaps[gaps.is_recurring.fillna(False) | (gaps.tickets >= gaps.tickets.median())]
        for _, issue in gaps.head(3).iterrows():
            coverage = ("no help-centre article" if not issue.kb_articles else
                        f"articles rated {pct(issue.kb_helpfulness)} helpful")
            findings.append(Finding(f"Knowledge-base gap: {issue.issue_type} "
                                    f"({int(issue.tickets):,} tickets) has {coverage}.",
                                    "fig-recurring", "kb_gap"))
    add_experiments(marts, start, (pd.Timestamp(start) + pd.offsets.MonthBegin(1)).date(),
                    sections, findings)
    notes[:0] = source_notes(marts)
    for mart in marts.missing:
        notes.append(f"Mart {mart} is missing from the warehouse: its section is empty.")
    html, md = render(f"support_monthly_{month}", out_dir, {
        "title": f"SayPro monthly support report (SCMR-5), {month}",
        "subtitle": "Figures from the warehouse marts; local months in SAYPRO_TIMEZONE.",
        "findings": findings, "sections": sections, "notes": notes})
    return ReportResult(html, md, findings, bool(notes), notes)
