"""Quarterly review (`quarterly_review_YYYY-Qn`): scorecard, gaps by impact, segment review,
root-cause analysis and the follow-up of corrective actions, from the marts only."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from reports.common import (
    Finding,
    Marts,
    ReportResult,
    number,
    pareto_chart,
    pct,
    render,
    source_notes,
)
from reports.experiments import add_experiments


def _bounds(quarter: str) -> tuple[date, date]:
    year, q = quarter.upper().split("-Q")
    start = date(int(year), (int(q) - 1) * 3 + 1, 1)
    end_month = start.month + 3
    end = date(start.year + (end_month > 12), (end_month - 1) % 12 + 1, 1)
    return start, end


def _fmt(value: Any, unit: str) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return pct(value) if unit in ("rate", "share", "fraction") else number(value, 1)


def render_quarterly_review(warehouse: Path, quarter: str, out_dir: Path) -> ReportResult:
    marts = Marts(Path(warehouse))
    try:
        return _render(marts, quarter.upper(), Path(out_dir))
    finally:
        marts.close()


def _render(marts: Marts, quarter: str, out_dir: Path) -> ReportResult:
    start, end = _bounds(quarter)
    findings: list[Finding] = []
    notes: list[str] = []
    sections: list[dict[str, Any]] = []
    catalog = marts.query("kpi_catalog", "SELECT kpi_id, name, unit FROM raw.kpi_catalog",
                          schema="raw")
    names = dict(zip(catalog.kpi_id, catalog.name, strict=False)) if len(catalog) else {}
    units = dict(zip(catalog.kpi_id, catalog.unit, strict=False)) if len(catalog) else {}
    score = marts.query("kpi_scorecard", "SELECT * FROM marts.kpi_scorecard WHERE period_grain "
                        "= 'quarter' AND period_start = ?", [start])

    def row_of(r: pd.Series) -> dict[str, Any]:
        unit = units.get(r.kpi_id, "")
        return {"KPI": names.get(r.kpi_id, r.kpi_id), "Segment": r.segment_id,
                "Actual": _fmt(r.actual, unit), "Target": _fmt(r.target, unit),
                "Status": r.status, "Impact": number(r.impact_score, 1),
                "Rank": "" if pd.isna(r.priority_rank) else int(r.priority_rank),
                "_class": r.status}

    if len(score):
        overall = score[score.segment_id == "all"].sort_values("kpi_id")
        counts = overall.status.value_counts()
        findings.append(Finding(
            f"In {quarter}, {counts.get('met', 0)} KPIs met their target, "
            f"{counts.get('at_risk', 0)} were at risk and {counts.get('missed', 0)} were "
            f"missed for all users; {counts.get('insufficient_data', 0)} had too few "
            "responses to judge.", "fig-scorecard", "summary"))
        sections.append({"id": "fig-scorecard", "title": "Scorecard: all users against target",
                         "table": {"columns": ["KPI", "Actual", "Target", "Status"],
                                   "rows": [row_of(r) for _, r in overall.iterrows()]}})
        gaps = score[score.priority_rank.notna()].sort_values("priority_rank").head(15)
        sections.append({"id": "fig-gaps", "title": "Gaps ranked by impact",
                         "text": "impact = shortfall % × weight; rank 1 is the largest gap.",
                         "table": {"columns": ["Rank", "KPI", "Segment", "Actual", "Target",
                                               "Impact", "Status"],
                                   "rows": [row_of(r) for _, r in gaps.iterrows()]}})
        for _, r in gaps.head(3).iterrows():
            unit = units.get(r.kpi_id, "")
            findings.append(Finding(
                f"{names.get(r.kpi_id, r.kpi_id)} for {r.segment_id} was "
                f"{_fmt(r.actual, unit)} against a target of {_fmt(r.target, unit)} "
                f"({r.status}, impact {r.impact_tier}, rank {int(r.priority_rank)}).",
                "fig-gaps", "gap"))
        segments = score[(score.segment_id != "all")
                         & score.status.isin(["missed", "at_risk", "insufficient_data"])]
        ranked = segments[segments.status != "insufficient_data"].sort_values(
            "impact_score", ascending=False).head(20)
        sections.append({"id": "fig-segments", "title": "Segment review: underperforming "
                         "segments", "table": {"columns": ["Segment", "KPI", "Actual", "Target",
                                                           "Status", "Impact"],
                                               "rows": [row_of(r) for _, r in ranked.iterrows()]}})
        small = segments[segments.status == "insufficient_data"]
        if len(small):
            sections.append({"id": "fig-small-samples", "title": "Small samples (suppressed, "
                             "not ranked)", "text": ", ".join(sorted(
                                 {f"{r.segment_id} / {r.kpi_id}" for _, r in small.iterrows()}))})
            findings.append(Finding(f"{small.segment_id.nunique()} segments had fewer than 10 "
                                    "observations for at least one KPI; those values are "
                                    "suppressed and not compared with targets.",
                                    "fig-small-samples", "small_sample"))
    else:
        notes.append(f"kpi_scorecard has no rows for {quarter}: the quarter has no data yet.")

    for dimension in ("category", "issue_type"):
        pareto = marts.query("rca_pareto", "SELECT * FROM marts.rca_pareto WHERE period_grain = "
                             "'quarter' AND period_start = ? AND dimension = ? ORDER BY rank",
                             [start, dimension])
        if not len(pareto):
            continue
        fig_id = f"fig-pareto-{dimension}"
        sections.append({"id": fig_id, "title": f"Pareto of tickets by {dimension}",
                         "chart": pareto_chart(list(pareto["item"]), list(pareto.tickets),
                                               list(pareto.cumulative_share),
                                               f"Tickets by {dimension}, {quarter} "
                                               "(dashed line: 80%)")})
        vital = pareto[pareto.is_vital_few]
        top = pareto.iloc[0]
        findings.append(Finding(
            f"{top['item']} made {top.share:.0%} of tickets in {quarter}; the vital few "
            f"({len(vital)} of {len(pareto)} {dimension.replace('_', ' ')} values) reach "
            f"{vital.cumulative_share.max():.0%} of tickets.", fig_id, "rca"))
    fishbone = marts.query("rca_pareto", "SELECT item, tickets, share FROM marts.rca_pareto "
                           "WHERE period_grain = 'quarter' AND period_start = ? AND dimension "
                           "= 'fishbone_group' ORDER BY rank", [start])
    if len(fishbone):
        sections.append({"id": "fig-fishbone", "title": "Fishbone grouping of tickets",
                         "table": {"columns": ["Group", "Tickets", "Share"], "rows": [
                             {"Group": r["item"], "Tickets": f"{r.tickets:,}",
                              "Share": pct(r.share)} for _, r in fishbone.iterrows()]}})
    last_month = date(end.year - (end.month == 1), (end.month - 2) % 12 + 1, 1)
    recurring = marts.query("rca_recurring_issues", "SELECT * FROM marts.rca_recurring_issues "
                            "WHERE month_start = ? ORDER BY tickets DESC", [last_month])
    if len(recurring):
        sections.append({"id": "fig-recurring", "title": "Recurring issues and segment "
                         "concentration (last month of the quarter)", "table": {
                             "columns": ["Issue type", "Tickets", "Recurring", "Top segment",
                                         "Lift", "Scope", "KB articles"],
                             "rows": [{"Issue type": r.issue_type, "Tickets": int(r.tickets),
                                       "Recurring": "yes" if r.is_recurring else "no",
                                       "Top segment": r.top_segment_id or "",
                                       "Lift": number(r.segment_lift, 2), "Scope": r.scope,
                                       "KB articles": number(r.kb_articles)}
                                      for _, r in recurring.head(12).iterrows()]}})
        for _, r in recurring[recurring.scope == "segment_specific"].head(3).iterrows():
            findings.append(Finding(
                f"{r.issue_type} is concentrated in {r.top_segment_id}: its share of that "
                f"segment's tickets is {r.segment_lift:.1f} times its share overall.",
                "fig-recurring", "rca"))
    hints = marts.query("rca_driver_hints", "SELECT * FROM marts.rca_driver_hints WHERE "
                        "period_grain = 'quarter' AND period_start = ?", [start])
    if len(hints):
        sections.append({"id": "fig-drivers", "title": "Driver hints", "table": {
            "columns": ["KPI", "Driver", "Statistic", "Value", "n", "Strength"],
            "rows": [{"KPI": r.kpi_id, "Driver": r.driver, "Statistic": r.statistic,
                      "Value": number(r.value, 2), "n": number(r.n), "Strength": r.strength}
                     for _, r in hints.iterrows()]}})
        for _, r in hints[hints.strength.isin(["strong", "moderate"])].head(2).iterrows():
            findings.append(Finding(str(r.description), "fig-drivers", "driver"))
    _corrective_actions(marts, end, sections, findings)
    add_experiments(marts, start, end, sections, findings)
    notes[:0] = source_notes(marts)
    for mart in marts.missing:
        notes.append(f"{mart} is missing from the warehouse: its section is empty.")
    html, md = render(f"quarterly_review_{quarter}", out_dir, {
        "title": f"SayPro quarterly review, {quarter}",
        "subtitle": f"Performance review, gaps, root causes and corrective actions for "
                    f"{start} to {end} (exclusive).",
        "findings": findings, "sections": sections, "notes": notes})
    return ReportResult(html, md, findings, bool(notes), notes)


def _corrective_actions(marts: Marts, end: date, sections: list[dict[str, Any]],
                        findings: list[Finding]) -> None:
    actions = marts.query("corrective_actions", "SELECT * FROM raw.corrective_actions "
                          "WHERE start_date < ? ORDER BY action_id", [end], schema="raw")
    if not len(actions):
        return
    values = marts.query("kpi_scorecard", "SELECT kpi_id, segment_id, period_start, actual, "
                         "target, direction FROM marts.kpi_scorecard WHERE period_grain = "
                         "'month' AND period_start < ?", [end])
    rows = []
    for _, a in actions.iterrows():
        series = values[(values.kpi_id == a.kpi_id) & (values.segment_id == a.segment_id)
                        & values.actual.notna()].sort_values("period_start")
        before = series[series.period_start < pd.Timestamp(a.start_date)].tail(1)
        after = series.tail(1)
        b = before.actual.iloc[0] if len(before) else None
        latest = after.actual.iloc[0] if len(after) else None
        on_track = "n/a"
        if b is not None and latest is not None and len(after):
            better = (latest >= b) if after.direction.iloc[0] == "higher_is_better" \
                else (latest <= b)
            on_track = "yes" if better else "no"
        rows.append({"Action": f"{a.action_id}: {a.action}", "KPI": a.kpi_id,
                     "Segment": a.segment_id, "Owner": a.owner, "Start": str(a.start_date)[:10],
                     "Due": str(a.due_date)[:10], "Status": a.status,
                     "Before": number(b, 3), "Latest": number(latest, 3), "On track": on_track})
        if on_track != "n/a":
            findings.append(Finding(
                f"{a.action_id} ({a.kpi_id}, {a.segment_id}): {number(b, 3)} before the start "
                f"on {str(a.start_date)[:10]}, {number(latest, 3)} in the latest month; "
                f"{'on track' if on_track == 'yes' else 'not on track'}.",
                "fig-actions", "action"))
    sections.append({"id": "fig-actions", "title": "Corrective actions: before and after",
                     "table": {"columns": list(rows[0]), "rows": rows}})
