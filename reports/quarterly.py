"""Quarterly review (`quarterly_review_YYYY-Qn`): scorecard, gaps by impact, segment review,
root-cause analysis and the follow-up of corrective actions, from the marts only."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.settings import DuckDBLimits
from reports.actions import add_corrective_actions
from reports.common import Finding, Labels, Marts, ReportResult, pareto_chart, render, source_notes
from reports.experiments import add_experiments
from reports.scorecard import (
    add_gap_list,
    add_headline_trends,
    add_segments_behind,
    add_small_samples,
    scorecard,
)
from reports.units import fmt_value


def _bounds(quarter: str) -> tuple[date, date]:
    year, q = quarter.upper().split("-Q")
    start = date(int(year), (int(q) - 1) * 3 + 1, 1)
    end_month = start.month + 3
    end = date(start.year + (end_month > 12), (end_month - 1) % 12 + 1, 1)
    return start, end


def _statistic(statistic: str, value: float) -> str:
    """A driver hint's statistic: a difference of rates in points, a correlation as rho; none
    when the sample is too small for it (NULL value)."""
    if pd.isna(value):
        return f"{statistic.replace('_', ' ')}: n/a"
    if statistic == "difference_in_rates":
        return fmt_value(value, "rate", delta=True)
    return f"{statistic.replace('_', ' ')} {value:+.2f}"


def _driver(driver: str, labels: Labels) -> str:
    """`segment:new_users` -> `segment: New users (...)`; other drivers as named."""
    kind, _, segment_id = driver.partition(":")
    return f"segment: {labels.segment(segment_id)}" if kind == "segment" and segment_id \
        else driver.replace("_", " ")


def render_quarterly_review(warehouse: Path, quarter: str, out_dir: Path,
                            limits: DuckDBLimits | None = None) -> ReportResult:
    marts = Marts(Path(warehouse), limits)
    try:
        return _render(marts, quarter.upper(), Path(out_dir))
    finally:
        marts.close()


def _render(marts: Marts, quarter: str, out_dir: Path) -> ReportResult:
    start, end = _bounds(quarter)
    findings: list[Finding] = []
    notes: list[str] = []
    sections: list[dict[str, Any]] = []
    labels = Labels(marts)
    score = scorecard(marts, "quarter", start)
    if len(score):
        overall = score[score.segment_id == "all"]
        counts = overall.status.value_counts()
        findings.append(Finding(
            f"In {quarter}, {counts.get('met', 0)} KPIs met their target, "
            f"{counts.get('at_risk', 0)} were at risk and {counts.get('missed', 0)} were "
            f"missed for all users; {counts.get('insufficient_data', 0)} had too few "
            "observations to judge.", "fig-scorecard", "summary"))
        add_headline_trends(marts, labels, score, "quarter", start, sections)
        add_gap_list(marts, labels, score, "quarter", start, sections, findings, limit=15)
        add_segments_behind(labels, score, sections, findings)
        add_small_samples(labels, score, sections, findings)
    else:
        notes.append(f"kpi_scorecard has no rows for {quarter}: the quarter has no data yet.")

    for dimension in ("category", "issue_type"):
        pareto = marts.query("rca_pareto", "SELECT * FROM marts.rca_pareto WHERE period_grain = "
                             "'quarter' AND period_start = ? AND dimension = ? ORDER BY rank",
                             [start, dimension])
        if not len(pareto):
            continue
        fig_id = f"fig-pareto-{dimension}"
        label = dimension.replace("_", " ")
        sections.append({"id": fig_id, "title": f"Pareto of tickets by {label}",
                         "chart": pareto_chart(fig_id, list(pareto["item"]),
                                               list(pareto.tickets),
                                               list(pareto.cumulative_share),
                                               f"Tickets by {label}, {quarter} "
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
                              "Share": fmt_value(r.share, "rate")}
                             for _, r in fishbone.iterrows()]}})
    last_month = date(end.year - (end.month == 1), (end.month - 2) % 12 + 1, 1)
    recurring = marts.query("rca_recurring_issues", "SELECT * FROM marts.rca_recurring_issues "
                            "WHERE month_start = ? ORDER BY tickets DESC, issue_type", [last_month])
    if len(recurring):
        sections.append({"id": "fig-recurring", "title": "Recurring issues and segment "
                         "concentration (last month of the quarter)", "table": {
                             "columns": ["Issue type", "Tickets", "Recurring", "Top segment",
                                         "Lift", "Scope", "KB articles"],
                             "rows": [{"Issue type": r.issue_type, "Tickets": int(r.tickets),
                                       "Recurring": "yes" if r.is_recurring else "no",
                                       "Top segment": labels.segment(r.top_segment_id)
                                       if r.top_segment_id else "",
                                       "Lift": "n/a" if pd.isna(r.segment_lift)
                                       else f"{r.segment_lift:.1f}×", "Scope": r.scope,
                                       "KB articles": int(r.kb_articles or 0)}
                                      for _, r in recurring.head(12).iterrows()]}})
        for _, r in recurring[recurring.scope == "segment_specific"].head(3).iterrows():
            findings.append(Finding(
                f"{r.issue_type} is concentrated in {labels.segment(r.top_segment_id)}: its "
                "share of that "
                f"segment's tickets is {r.segment_lift:.1f} times its share overall.",
                "fig-recurring", "rca"))
    # strongest first, so that the findings below take the two strongest; then a fixed order
    hints = marts.query("rca_driver_hints", "SELECT * FROM marts.rca_driver_hints WHERE "
                        "period_grain = 'quarter' AND period_start = ? ORDER BY "
                        "list_position(['strong', 'moderate', 'weak'], strength) NULLS LAST, "
                        "abs(value) DESC NULLS LAST, kpi_id, driver", [start])
    if len(hints):
        sections.append({"id": "fig-drivers", "title": "Driver hints", "table": {
            "columns": ["KPI", "Driver", "Statistic", "n", "Strength"],
            "rows": [{"KPI": labels.kpi(r.kpi_id), "Driver": _driver(r.driver, labels),
                      "Statistic": _statistic(r.statistic, r.value), "n": f"{int(r.n):,}",
                      "Strength": r.strength if isinstance(r.strength, str)
                      else "n/a (sample too small)"}
                     for _, r in hints.iterrows()]}})
        for _, r in hints[hints.strength.isin(["strong", "moderate"])].head(2).iterrows():
            findings.append(Finding(str(r.description), "fig-drivers", "driver"))
    add_corrective_actions(marts, labels, start, end, sections, findings)
    add_experiments(marts, start, end, sections, findings)
    notes[:0] = source_notes(marts.sources_not_configured())
    for mart in marts.missing:
        notes.append(f"{mart} is missing from the warehouse: its section is empty.")
    html, md = render(f"quarterly_review_{quarter}", out_dir, {
        "title": f"SayPro quarterly review, {quarter}",
        "subtitle": f"Performance review, gaps, root causes and corrective actions for "
                    f"{start} to {end} (exclusive).",
        "findings": findings, "sections": sections, "notes": notes})
    return ReportResult(html, md, findings, bool(notes), notes)

