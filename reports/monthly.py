"""Monthly support report SCMR-5 (`support_monthly_YYYY-MM`), from the marts only."""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.settings import DuckDBLimits
from reports.common import (
    Finding,
    Labels,
    Marts,
    ReportResult,
    add_months,
    bar_chart,
    line_chart,
    month_start,
    render,
    source_notes,
    sparkline,
)
from reports.experiments import add_experiments
from reports.scorecard import (
    NO_HISTORY,
    PERSISTENT_PERIODS,
    STATUS_LABELS,
    TREND_PERIODS,
    add_gap_list,
    add_small_samples,
    gap_streaks,
    row_class,
    scorecard,
    status_text,
    target_text,
    without_empty_history,
)
from reports.units import fmt_value

HEADLINES = [  # (support_monthly column, KPI id of its target and unit, label, unit otherwise)
    ("tickets_created", "ticket_volume", "Tickets created", "tickets"),
    ("tickets_solved", None, "Tickets solved", "tickets"),
    ("median_first_reply_minutes", "first_reply_median_minutes", "Median first reply",
     "minutes"),
    ("p90_first_reply_minutes", None, "90th percentile first reply", "minutes"),
    ("median_full_resolution_minutes", None, "Median full resolution", "minutes"),
    ("frt_sla_compliance", "frt_sla_compliance", "First-reply SLA compliance", "rate"),
    ("resolution_sla_compliance", "resolution_sla_compliance", "Resolution SLA compliance",
     "rate"),
    ("reopen_rate", "reopen_rate", "Reopen rate", "rate"),
    ("csat", "ticket_csat", "CSAT (good / rated)", "rate"),
    ("backlog_end_of_month", None, "Backlog at month end", "tickets"),
]
MONTHS = TREND_PERIODS["month"]
WEB_COLUMNS = {"visits": "Visits", "unique_visitors": "Unique visitors",
               "pages_per_visit": "Pages per visit", "avg_time_on_site_seconds": "Time on site",
               "bounce_rate": "Bounce rate", "ad_ctr": "Ad CTR", "conversion_rate": "Conversion"}


def _count(value: Any) -> str:
    """A plain count in a table whose column names what is counted."""
    return "n/a" if pd.isna(value) else f"{int(value):,}"


def _compliance(value: Any, met: Any, breached: Any) -> str:
    """A compliance as the mart gives it, with its n (met + breached); NULL = suppressed."""
    n = int(met) + int(breached)
    return fmt_value(value, "rate") + f" (n = {n:,})"


def _table(frame: pd.DataFrame, columns: dict[str, Any]) -> dict[str, Any]:
    rows = [{label: fmt(row[col]) for label, (col, fmt) in columns.items()}
            for _, row in frame.iterrows()]
    return {"columns": list(columns), "rows": rows}


def render_support_monthly(warehouse: Path, month: str, out_dir: Path,
                           limits: DuckDBLimits | None = None) -> ReportResult:
    marts = Marts(Path(warehouse), limits)
    try:
        return _render(marts, month, month_start(month), Path(out_dir))
    finally:
        marts.close()


def _headlines(marts: Marts, labels: Labels, start: date, score: pd.DataFrame,
               monthly: pd.DataFrame) -> dict[str, Any]:
    """The support headlines: this month, the previous one, the same month last year, the
    last six months as a sparkline, the target and the status (persistent gaps flagged)."""
    by_month = {pd.Timestamp(m).date(): row for m, row in monthly.set_index("month_start")
                .iterrows()}
    window = [add_months(start, k) for k in range(1 - MONTHS, 1)]
    last_year = add_months(start, -12)
    targets = score[score.segment_id == "all"].set_index("kpi_id") if len(score) else None
    streaks = gap_streaks(marts, "month", start)

    def at(month: date, column: str) -> Any:
        return by_month[month][column] if month in by_month else None

    rows = []
    for column, kpi, label, declared in HEADLINES:
        unit = (labels.unit(kpi) if kpi else None) or declared
        target = targets.loc[kpi] if targets is not None and kpi in targets.index else None
        status = target.status if target is not None else ""
        streak = streaks.get((kpi, "all"), 0)
        rows.append({
            "Measure": label, "This month": fmt_value(at(start, column), unit),
            "Previous month": fmt_value(at(window[-2], column), unit),
            "Same month last year": fmt_value(at(last_year, column), unit)
            if last_year in by_month else NO_HISTORY,
            f"Last {MONTHS} months": sparkline(
                f"trend-{column}", [at(m, column) for m in window],
                f"{label}, {window[0]:%Y-%m} to {start:%Y-%m}",
                None if target is None else target.target),
            "Target": ("no target" if kpi else "") if target is None else
            target_text(target.target, unit, target.target_basis),
            "Status": status_text(status, streak), "_class": row_class(status, streak)})
    return {"id": "fig-headlines", "title": "Headline figures with their trend and target",
            "text": f"This month against the previous month, the same month last year (once "
                    f"the warehouse holds it) and the last {MONTHS} months (sparkline: dashed "
                    "line = target, dot = this month). "
                    f"Persistent: a gap {PERSISTENT_PERIODS} months in a row.",
            "table": without_empty_history(rows, "Same month last year")}


def _render(marts: Marts, month: str, start: date, out_dir: Path) -> ReportResult:
    previous = add_months(start, -1)
    labels = Labels(marts)
    monthly = marts.query("support_monthly", "SELECT * FROM marts.support_monthly WHERE "
                          "month_start BETWEEN ? AND ? OR month_start = ? ORDER BY month_start",
                          [add_months(start, 1 - MONTHS), start, add_months(start, -12)])
    if not len(monthly):
        monthly = pd.DataFrame(columns=["month_start", *(h[0] for h in HEADLINES)])
    this = monthly[monthly.month_start == pd.Timestamp(start)]
    before = monthly[monthly.month_start == pd.Timestamp(previous)]
    score = scorecard(marts, "month", start)
    targets = score[score.segment_id == "all"].set_index("kpi_id") if len(score) else \
        pd.DataFrame(columns=["target", "status"])
    findings: list[Finding] = []
    notes: list[str] = []
    absent = marts.sources_not_configured()
    # The headlines are the helpdesk's: without Zendesk there are none to show (its KPIs are
    # absent, not n/a, DESIGN.md s.3), and the notes name it as not configured.
    sections: list[dict[str, Any]] = (
        [] if "zendesk" in absent else [_headlines(marts, labels, start, score, monthly)])
    if len(this):
        row = this.iloc[0]
        text = f"{int(row.tickets_created):,} tickets were created in {month}"
        if len(before) and before.tickets_created.iloc[0]:
            change = row.tickets_created / before.tickets_created.iloc[0] - 1
            text += f", {change:+.0%} on the previous month" if round(change, 2) else \
                ", as many as in the previous month"
        findings.append(Finding(text + ".", "fig-headlines"))
        if len(before) and pd.notna(row.median_first_reply_minutes) and pd.notna(
                before.median_first_reply_minutes.iloc[0]):
            now, prior = row.median_first_reply_minutes, before.median_first_reply_minutes.iloc[0]
            findings.append(Finding(
                f"The median first reply took {fmt_value(now, 'minutes')} ({now / prior:.1f} "
                f"times the previous month's {fmt_value(prior, 'minutes')}).", "fig-headlines"))
        if "ticket_csat" in targets.index and pd.notna(row.csat):
            t = targets.loc["ticket_csat"]
            findings.append(Finding(f"Ticket CSAT was {fmt_value(row.csat, 'rate')} against a "
                                    f"target of {fmt_value(t.target, 'rate')} "
                                    f"({STATUS_LABELS[t.status]}).", "fig-headlines", "target"))
    elif "zendesk" not in absent:
        notes.append(f"support_monthly has no row for {month}: no tickets were created in the "
                     "month, or the month has not been built yet.")
    add_gap_list(marts, labels, score, "month", start, sections, findings, limit=10)

    tickets = marts.query("fct_tickets", "SELECT category, channel FROM marts.fct_tickets "
                          "WHERE created_month = ?", [start])
    if len(tickets):
        by_category = tickets.category.value_counts()
        sections.append({"id": "fig-volume-category", "title": "Ticket volume by category",
                         "chart": bar_chart("fig-volume-category", list(by_category.index),
                                            list(by_category.values),
                                            f"Tickets by category, {month}", "tickets")})
        top = by_category.index[0]
        findings.append(Finding(f"{top} was the largest category with {by_category.iloc[0]:,} "
                                f"tickets ({by_category.iloc[0] / len(tickets):.0%}).",
                                "fig-volume-category"))
        by_channel = tickets.channel.fillna("unknown").value_counts()
        sections.append({"id": "fig-volume-channel", "title": "Ticket volume by channel",
                         "table": {"columns": ["Channel", "Tickets"], "rows": [
                             {"Channel": k, "Tickets": f"{v:,}"} for k, v in by_channel.items()]}})
    # Compliance is computed once, in dbt: per priority in support_sla_monthly, over all
    # priorities the KPI itself (kpi_values, through support_monthly's headline row).
    sla = marts.query("support_sla_monthly", "SELECT * FROM marts.support_sla_monthly "
                      "WHERE month_start = ? ORDER BY tickets DESC, priority", [start])
    if len(sla):
        sla_rows = [{"Priority": r.priority, "Tickets": f"{int(r.tickets):,}",
                     "First-reply SLA": _compliance(r.frt_sla_compliance, r.frt_met,
                                                    r.frt_breached),
                     "Resolution SLA": _compliance(r.resolution_sla_compliance,
                                                   r.resolution_met, r.resolution_breached)}
                    for r in sla.itertuples()]
        if len(this):
            row = this.iloc[0]
            sla_rows.append({"Priority": "all priorities",
                             "Tickets": f"{int(row.tickets_created):,}",
                             "First-reply SLA": fmt_value(row.frt_sla_compliance, "rate"),
                             "Resolution SLA": fmt_value(row.resolution_sla_compliance, "rate")})
        sections.append({"id": "fig-sla-priority", "title": "SLA compliance by priority",
                         "text": "Compliance = met / (met + breached), n = met + breached; "
                                 "not shown (n/a) below 10. Targets from seed sla_targets.",
                         "table": {"columns": list(sla_rows[0]), "rows": sla_rows}})

    backlog = marts.query("fct_ticket_backlog_daily", "SELECT day, sum(backlog_tickets) AS b "
                          "FROM marts.fct_ticket_backlog_daily WHERE day >= ? AND day < "
                          "? GROUP BY day ORDER BY day",
                          [start, pd.Timestamp(start) + pd.offsets.MonthBegin(1)])
    if len(backlog):
        sections.append({"id": "fig-backlog", "title": "Backlog trend",
                         "chart": line_chart("fig-backlog", list(backlog.day),
                                             {"open tickets": list(backlog.b)},
                                             f"Open tickets at the end of each day, {month}",
                                             "tickets")})

    traffic = marts.query("agg_web_traffic_monthly", "SELECT * FROM marts.agg_web_traffic_monthly"
                          " WHERE month_start = ? ORDER BY visits DESC, channel", [start])
    if len(traffic):
        sections.append({"id": "fig-web", "title": "Site traffic and ad engagement",
                         "table": _table(traffic, {
                             "Channel": ("channel", str),
                             **{label: (column, partial(fmt_value, unit=labels.unit(column)))
                                for column, label in WEB_COLUMNS.items()}})})
        total = traffic[traffic.channel == "all"]
        if len(total):
            t = total.iloc[0]
            findings.append(Finding(f"The site had {int(t.visits):,} visits from "
                                    f"{int(t.unique_visitors):,} unique visitors; "
                                    f"{fmt_value(t.conversion_rate, 'rate')} of visits "
                                    "converted and the ad click-through rate was "
                                    f"{fmt_value(t.ad_ctr, 'rate')}.", "fig-web"))
    pages = marts.query("agg_web_pages_monthly", "SELECT page, pageviews, entries, exits FROM "
                        "marts.agg_web_pages_monthly WHERE month_start = ? ORDER BY entries "
                        "DESC, page LIMIT 10", [start])
    if len(pages):
        sections.append({"id": "fig-pages", "title": "Top landing pages",
                         "table": _table(pages, {"Page": ("page", str),
                                                 "Entries": ("entries", _count),
                                                 "Page views": ("pageviews", _count),
                                                 "Exits": ("exits", _count)})})

    recurring = marts.query("rca_recurring_issues", "SELECT * FROM marts.rca_recurring_issues "
                            "WHERE month_start = ? ORDER BY tickets DESC, issue_type", [start])
    if len(recurring):
        sections.append({"id": "fig-recurring", "title": "Top recurring issues and "
                         "knowledge-base coverage", "table": _table(recurring.head(10), {
                             "Issue type": ("issue_type", str), "Category": ("category", str),
                             "Tickets": ("tickets", _count),
                             "Months in vital few (of 3)": ("months_in_vital_few_last_3", _count),
                             "Recurring": ("is_recurring", lambda v: "yes" if v else "no"),
                             "Reopen rate": ("reopen_rate", partial(fmt_value, unit="rate")),
                             "KB articles": ("kb_articles", _count),
                             "KB helpfulness": ("kb_helpfulness",
                                                partial(fmt_value, unit="rate"))})})
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
                        f"articles rated {fmt_value(issue.kb_helpfulness, 'rate')} helpful")
            findings.append(Finding(f"Knowledge-base gap: {issue.issue_type} "
                                    f"({int(issue.tickets):,} tickets) has {coverage}.",
                                    "fig-recurring", "kb_gap"))
    add_small_samples(labels, score, sections, findings)
    add_experiments(marts, start, add_months(start, 1), sections, findings)
    notes[:0] = source_notes(absent)
    for mart in marts.missing:
        notes.append(f"Mart {mart} is missing from the warehouse: its section is empty.")
    html, md = render(f"support_monthly_{month}", out_dir, {
        "title": f"SayPro monthly support report (SCMR-5), {month}",
        "subtitle": "Figures from the warehouse marts; local months in SAYPRO_TIMEZONE.",
        "findings": findings, "sections": sections, "notes": notes})
    return ReportResult(html, md, findings, bool(notes), notes)
