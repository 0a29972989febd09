"""Corrective-action progress for the quarterly review, from the register (seed
`corrective_actions`, in `raw`) and the quarterly KPI values of the marts.

Before = the action's KPI and segment in the last quarter that lies mostly before it opened
(the quarter it opened in when more than half of it had passed, since the problem it answers
shows there; else the quarter before). After = the review quarter, once a full quarter has
passed since it opened (a quarter that began before the action mixes both). Quarters rather
than months: their values have intervals for every KPI type and enough observations for small
segments, and the review judges quarters.
Verdict: `working` when the after value meets the target, or is better than before beyond
both 95% intervals; `not working` when it is worse beyond them, or shows no clear change
although the action is closed or overdue; otherwise `not yet`. For KPIs without an interval
(medians, counts) a change is clear when it exceeds CLEAR_CHANGE of the before value.
Everything is judged as of the quarter's last day (or today, for the running quarter), so a
review rendered later reads the same: an action closed after that day is still open in it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from reports.common import Finding, Labels, Marts, add_months, period_label
from reports.scorecard import target_text
from reports.units import fmt_with_interval

CLEAR_CHANGE = 0.10
VERDICT_CLASSES = {"working": "met", "not yet": "at_risk", "not working": "missed"}
STATE_LABELS = {"planned": "planned", "in_progress": "in progress", "done": "done",
                "dropped": "dropped"}


def _day(value: Any) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _baseline_quarter(opened: date) -> date:
    """The last quarter that lies mostly before the action opened: the quarter it opened in
    when more than half of it had passed (the problem it answers shows there), else the one
    before."""
    start = _quarter_start(opened)
    return start if (opened - start).days * 2 > (add_months(start, 3) - start).days \
        else add_months(start, -3)


def _apart(before: Any, after: Any) -> bool:
    """True when the change is beyond noise: the 95% intervals do not overlap, or (without
    intervals) the values differ by more than CLEAR_CHANGE of the before value."""
    if pd.isna(before.ci_low) or pd.isna(after.ci_low):
        return abs(after.value - before.value) > CLEAR_CHANGE * abs(before.value)
    return after.ci_low > before.ci_high or after.ci_high < before.ci_low


def _shown(row: Any, quarter: date, unit: str | None) -> str:
    """`2025-Q2: 62.0% (57.4–66.4%), n 450`; no n for counts, whose n is the value."""
    if row is None:
        return "n/a"
    n = "" if row.n == row.value else f", n {int(row.n):,}"
    return (f"{period_label(quarter, 'quarter')}: "
            f"{fmt_with_interval(row.value, row.ci_low, row.ci_high, unit)}{n}")


def verdict(before: Any, after: Any, direction: str, status: str | None,
            finished: bool) -> tuple[str, str]:
    """(verdict, reason) for an action with both a before and an after value."""
    better = (after.value - before.value) * (-1 if direction == "lower_is_better" else 1)
    clear = _apart(before, after)
    if status == "met":
        return "working", "meets the target"
    if better > 0 and clear:
        return "working", "clearly better than before"
    if better < 0 and clear:
        return "not working", "clearly worse than before"
    if finished:
        return "not working", "no clear change by its due date or close"
    return "not yet", "better, but not yet beyond the noise" if better > 0 else \
        "no clear change yet"


def add_corrective_actions(marts: Marts, labels: Labels, start: date, end: date,
                           sections: list[dict[str, Any]], findings: list[Finding],
                           today: date | None = None) -> None:
    """The review's corrective-action section for the quarter [start, end)."""
    as_of = min(end - timedelta(days=1), today or date.today())
    actions = marts.query("corrective_actions", "SELECT * FROM raw.corrective_actions WHERE "
                          "start_date <= ? ORDER BY action_id", [as_of], schema="raw")
    if not len(actions):
        return
    values = marts.query("kpi_values", "SELECT kpi_id, segment_id, period_start, value, ci_low, "
                         "ci_high, n FROM marts.kpi_values WHERE period_grain = 'quarter' AND "
                         "period_start <= ? AND value IS NOT NULL", [start])
    quarterly = {(r.kpi_id, r.segment_id, r.period_start.date()): r
                 for r in values.itertuples()} if len(values) else {}
    score = marts.query("kpi_scorecard", "SELECT kpi_id, segment_id, target, target_basis, "
                        "status FROM marts.kpi_scorecard WHERE period_grain = 'quarter' AND "
                        "period_start = ?", [start])
    targets = {(r.kpi_id, r.segment_id): r for r in score.itertuples()} if len(score) else {}
    catalog = marts.query("kpi_catalog", "SELECT kpi_id, direction FROM raw.kpi_catalog",
                          schema="raw")
    directions = dict(zip(catalog.kpi_id, catalog.direction, strict=True)) \
        if len(catalog) else {}
    closed_dates = actions.get("closed_date", pd.Series(pd.NaT, index=actions.index))
    rows = []
    for a, closed_on in zip(actions.itertuples(), closed_dates, strict=True):
        opened, due, closed = _day(a.start_date), _day(a.due_date), _day(closed_on)
        is_closed = a.status in ("done", "dropped") and (closed is None or closed <= as_of)
        state = a.status if is_closed or a.status == "planned" else "in_progress"
        overdue = (as_of - due).days if not is_closed and due < as_of else 0
        days_open = "not started" if state == "planned" else \
            "n/a (closed_date not set)" if is_closed and closed is None else \
            str(((closed if is_closed else as_of) - opened).days)
        unit = labels.unit(a.kpi_id)
        key = (a.kpi_id, a.segment_id)
        before_q = _baseline_quarter(opened)
        first_full = opened if opened == _quarter_start(opened) else \
            add_months(_quarter_start(opened), 3)
        before = quarterly.get((*key, before_q))
        after = quarterly.get((*key, start)) if start >= first_full else None
        target = targets.get(key)
        if start < first_full:
            result = ("not yet", "too early: its first full quarter is "
                      f"{period_label(first_full, 'quarter')}")
        elif before is None or after is None:
            missing = period_label(before_q if before is None else start, "quarter")
            result = ("not yet", f"no value for {missing} (too few observations or no data)")
        else:
            result = verdict(before, after, directions.get(a.kpi_id, "higher_is_better"),
                             None if target is None else target.status,
                             is_closed or overdue > 0)

        rows.append({
            "Action": f"{a.action_id}: {a.action} ({STATE_LABELS.get(state, state)})",
            "Owner": a.owner,
            "KPI (segment)": f"{labels.kpi(a.kpi_id)} ({labels.segment(a.segment_id)})",
            "Before": _shown(before, before_q, unit),
            "After": _shown(after, start, unit) if start >= first_full else "too early",
            "Target": "no target" if target is None else
            target_text(target.target, unit, target.target_basis),
            "Opened": str(opened), "Due": str(due),
            "Days open": days_open,
            "Overdue": f"{overdue} days" if overdue else "no",
            "Verdict": f"{result[0]}: {result[1]}",
            "_class": VERDICT_CLASSES[result[0]]})
        change = (f"went from {_shown(before, before_q, unit)} to {_shown(after, start, unit)}"
                  if before is not None and after is not None else "has no before and after "
                  "values to compare yet")
        findings.append(Finding(
            f"{a.action_id} ({a.action}): {labels.kpi(a.kpi_id)} for "
            f"{labels.segment(a.segment_id)} {change}; verdict {result[0]} ({result[1]})"
            + (f"; overdue by {overdue} days" if overdue else "") + ".",
            "fig-actions", "action"))
    sections.append({
        "id": "fig-actions", "title": "Corrective actions: progress",
        "text": f"Each action opened by {as_of}, as of that day. Before: the last quarter "
                "mostly before it opened; after: this quarter, once a full quarter has passed "
                "since it opened (95% intervals in brackets). Verdict: working when the KPI "
                "meets the target or is better beyond both intervals; not working when it is "
                "worse beyond them, or shows no clear change although the action is closed or "
                f"overdue; otherwise not yet. Without intervals a change of more than "
                f"{CLEAR_CHANGE:.0%} counts as clear. Register: "
                "dbt_project/seeds/corrective_actions.csv.",
        "table": {"columns": list(rows[0])[:-1], "rows": rows, "nowrap": ["Opened", "Due"]}})
