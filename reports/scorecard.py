"""Scorecard sections shared by the monthly report and the quarterly review: headline KPIs
with their trend, the gap list in `priority_rank` order, segments behind all users and the
small samples, all from `marts.kpi_values` and `marts.kpi_scorecard` (DESIGN.md section 8)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from reports.common import Finding, Labels, Marts, add_months, period_label, period_step, sparkline
from reports.units import fmt_value, fmt_with_interval

GAP_STATUSES = ("missed", "at_risk")
STATUS_LABELS = {"met": "met", "at_risk": "at risk", "missed": "missed",
                 "insufficient_data": "insufficient data"}
PERSISTENT_PERIODS = 3  # a gap this many periods in a row is flagged as persistent
STREAK_LOOKBACK = 12
TREND_PERIODS = {"month": 6, "quarter": 4}
GRAIN_WORDS = {"month": ("month", "months"), "quarter": ("quarter", "quarters")}
DOMAIN_ORDER = {"support": 0, "web": 1, "learning": 2, "surveys": 3}
NO_HISTORY = "no history"


def scorecard(marts: Marts, grain: str, start: date) -> pd.DataFrame:
    """The period's scorecard rows (every KPI × segment with a target)."""
    return marts.query("kpi_scorecard", "SELECT * FROM marts.kpi_scorecard WHERE period_grain = ? "
                       "AND period_start = ? ORDER BY kpi_id, segment_id", [grain, start])


def gap_streaks(marts: Marts, grain: str, start: date) -> dict[tuple[str, str], int]:
    """For each KPI × segment with a gap (missed or at risk) in the period: how many periods in
    a row, ending with this one, it has had one (at most STREAK_LOOKBACK)."""
    periods = [add_months(start, -period_step(grain) * k) for k in range(STREAK_LOOKBACK)]
    history = marts.query("kpi_scorecard", "SELECT kpi_id, segment_id, period_start FROM "
                          "marts.kpi_scorecard WHERE period_grain = ? AND period_start BETWEEN ? "
                          "AND ? AND status IN ('missed', 'at_risk')",
                          [grain, periods[-1], start])
    gaps = {(r.kpi_id, r.segment_id, pd.Timestamp(r.period_start).date())
            for r in history.itertuples()}
    streaks = {}
    for kpi_id, segment_id, period in gaps:
        if period == start:
            streak = 0
            while streak < len(periods) and (kpi_id, segment_id, periods[streak]) in gaps:
                streak += 1
            streaks[(kpi_id, segment_id)] = streak
    return streaks


def since_text(streak: int, start: date, grain: str) -> str:
    """`new this quarter`, `since 2025-Q3 (2 quarters)`."""
    one, many = GRAIN_WORDS[grain]
    if streak <= 1:
        return f"new this {one}"
    first = add_months(start, -period_step(grain) * (streak - 1))
    count = f"{streak}+" if streak >= STREAK_LOOKBACK else str(streak)
    return f"since {period_label(first, grain)} ({count} {many})"


def status_text(status: str, streak: int) -> str:
    """`missed`, or `missed, persistent` for a gap PERSISTENT_PERIODS periods in a row."""
    return STATUS_LABELS.get(status, "") + (
        ", persistent" if status in GAP_STATUSES and streak >= PERSISTENT_PERIODS else "")


def row_class(status: str, streak: int) -> str:
    return status + (" persistent" if status in GAP_STATUSES
                     and streak >= PERSISTENT_PERIODS else "")


def target_text(target: Any, unit: str | None, basis: Any) -> str:
    """`80.0%`, or `5.0% (placeholder)` for a level the plans do not set."""
    text = fmt_value(target, unit)
    return f"{text} (placeholder)" if basis == "placeholder" else text


def gap_text(r: Any) -> str:
    """Actual minus target with the unit, and the shortfall in % of the target:
    `-2.7 pp (54%)`."""
    return f"{fmt_value(r.actual - r.target, r.unit, delta=True)} ({r.shortfall_pct:.0f}%)"


def merged_gaps(score: pd.DataFrame) -> list[list[Any]]:
    """The ranked gaps in rank order, rows with identical figures for one KPI (e.g. `all` and
    `new_users` for a KPI counted on new users only) merged into one entry."""
    entries: dict[tuple[Any, ...], list[Any]] = {}
    for r in score[score.priority_rank.notna()].sort_values("priority_rank").itertuples():
        key = (r.kpi_id, r.actual, r.n, r.people_affected, r.target)
        entries.setdefault(key, []).append(r)
    return list(entries.values())


def gap_table(entries: list[list[Any]], labels: Labels, streaks: dict[tuple[str, str], int],
              grain: str, start: date) -> dict[str, Any]:
    rows = []
    for group in entries:
        r = group[0]
        segments = "; ".join(labels.segment(g.segment_id) for g in group)
        streak = streaks.get((r.kpi_id, r.segment_id), 1)
        rows.append({
            "Rank": ", ".join(str(int(g.priority_rank)) for g in group),
            "KPI": labels.kpi(r.kpi_id),
            "Segment": segments + (" (identical figures)" if len(group) > 1 else ""),
            "Actual (95% interval)": fmt_with_interval(r.actual, r.ci_low, r.ci_high, r.unit),
            "Target": target_text(r.target, r.unit, r.target_basis),
            "Gap to target": gap_text(r),
            "People affected": f"{int(r.people_affected):,}",
            "Impact": f"{r.impact_score:,.0f} ({r.impact_tier})",
            "Status": status_text(r.status, streak),
            "Gap since": since_text(streak, start, grain),
            "_class": row_class(r.status, streak)})
    return {"columns": ["Rank", "KPI", "Segment", "Actual (95% interval)", "Target",
                        "Gap to target", "People affected", "Impact", "Status", "Gap since"],
            "rows": rows}


def gap_finding(group: list[Any], labels: Labels, streaks: dict[tuple[str, str], int],
                grain: str, start: date) -> str:
    r = group[0]
    who = " and ".join(labels.segment(g.segment_id) for g in group)
    ranks = " and ".join(str(int(g.priority_rank)) for g in group)
    basis = "placeholder target" if r.target_basis == "placeholder" else "target"
    streak = streaks.get((r.kpi_id, r.segment_id), 1)
    return (f"{labels.kpi(r.kpi_id)} for {who} was "
            f"{fmt_with_interval(r.actual, r.ci_low, r.ci_high, r.unit)} against a {basis} of "
            f"{fmt_value(r.target, r.unit)}: {status_text(r.status, streak)}, "
            f"{int(r.people_affected):,} people affected, priority rank {ranks}, "
            f"{since_text(streak, start, grain)}.")


def add_gap_list(marts: Marts, labels: Labels, score: pd.DataFrame, grain: str, start: date,
                 sections: list[dict[str, Any]], findings: list[Finding], limit: int) -> None:
    """The section of gaps by priority rank, its top three as findings, and one finding for
    the persistent gaps."""
    if not len(score):
        return
    streaks = gap_streaks(marts, grain, start)
    entries = merged_gaps(score)
    one = GRAIN_WORDS[grain][0]
    section: dict[str, Any] = {
        "id": "fig-gaps", "title": f"Gaps this {one}, by priority",
        "text": "Every KPI and segment that missed its target or is at risk, ranked by impact "
                "= min(shortfall %, 100) / 100 × people affected × weight (rank 1: act first). "
                "Missed: the whole 95% interval is on the wrong side of the target; at risk: "
                "the shortfall is within the tolerance or the interval still reaches the "
                "target. Placeholder targets are working levels the owner has not confirmed. "
                f"A gap {PERSISTENT_PERIODS} {GRAIN_WORDS[grain][1]} in a row is persistent "
                "(marked red on the left)."}
    if entries:
        section["table"] = gap_table(entries[:limit], labels, streaks, grain, start)
        if len(entries) > limit:
            section["after"] = (f"{len(entries) - limit} more gaps are in marts.kpi_scorecard "
                                "(priority_rank).")
        for group in entries[:3]:
            findings.append(Finding(gap_finding(group, labels, streaks, grain, start),
                                    "fig-gaps", "gap"))
    else:
        section["text"] = f"No KPI missed its target or was at risk this {one}."
    sections.append(section)
    persistent = [group for group in entries
                  if streaks.get((group[0].kpi_id, group[0].segment_id), 1) >= PERSISTENT_PERIODS]
    if persistent:
        many = GRAIN_WORDS[grain][1]
        top = "; ".join(
            f"{labels.kpi(g[0].kpi_id)} for {labels.segment(g[0].segment_id)} "
            f"({streaks[(g[0].kpi_id, g[0].segment_id)]} {many})" for g in persistent[:3])
        findings.append(Finding(f"{len(persistent)} of the {len(entries)} gaps have lasted "
                                f"{PERSISTENT_PERIODS} {many} or more; the highest ranked: "
                                f"{top}.", "fig-gaps", "persistent_gap"))


def add_small_samples(labels: Labels, score: pd.DataFrame, sections: list[dict[str, Any]],
                      findings: list[Finding]) -> None:
    """Suppressed values (DESIGN.md section 6: n < 10), never ranked: one compact row per
    segment, the KPIs with a few observations (and their n) apart from those with none."""
    small = score[score.status == "insufficient_data"] if len(score) else score
    if not len(small):
        return
    small = small.assign(kpi=small.kpi_id.map(labels.kpi), n=small.n.fillna(0).astype(int))
    rows = []
    for segment_id in sorted(set(small.segment_id),
                             key=lambda s: (s != "all", labels.segment(s))):
        mine = small[small.segment_id == segment_id].sort_values("kpi")
        few, none = mine[mine.n > 0], mine[mine.n == 0]
        rows.append({"Segment": labels.segment(segment_id),
                     "Fewer than 10 observations: KPI (n)": ", ".join(
                         f"{r.kpi} ({r.n})" for r in few.itertuples()) or "–",
                     "No observations": ", ".join(none.kpi) or "–"})
    sections.append({
        "id": "fig-small-samples", "title": "Small samples (not shown, not ranked)",
        "text": "Values backed by fewer than 10 observations are not shown (DESIGN.md section "
                "6): they are not compared with targets and get no rank. n in brackets; KPIs "
                "with no observation at all in the segment are listed apart.",
        "table": {"columns": list(rows[0]), "rows": rows}})
    few = small[small.n > 0]
    if len(few):
        findings.append(Finding(
            f"{few.segment_id.nunique()} segments had between 1 and 9 observations for "
            f"{len(few)} KPI values in all; those values are not shown and not compared "
            "with targets.", "fig-small-samples", "small_sample"))


def add_segments_behind(labels: Labels, score: pd.DataFrame, sections: list[dict[str, Any]],
                        findings: list[Finding], limit: int = 12) -> None:
    """The equity view beside the gap list: segments with a gap whose value is worse than all
    users', missed ones first, each by how far behind all users it is (relative, so KPIs of
    different units compare). A small segment far behind shows here even when its impact
    ranks it low."""
    if not len(score):
        return
    behind = score[score.is_underperforming_segment & score.status.isin(GAP_STATUSES)
                   & (score.all_value != 0)]
    behind = behind.assign(lag=100 * (behind.actual - behind.all_value).abs()
                           / behind.all_value.abs(), missed=behind.status.eq("missed"))
    behind = behind.assign(capped=behind.lag.clip(upper=100)).sort_values(
        ["missed", "capped", "people_affected"], ascending=False).head(limit)
    rows = [{"Segment": labels.segment(r.segment_id), "KPI": labels.kpi(r.kpi_id),
             "Segment value (95% interval)": fmt_with_interval(r.actual, r.ci_low, r.ci_high,
                                                               r.unit),
             "All users": fmt_value(r.all_value, r.unit),
             "Behind all users": f"{fmt_value(r.actual - r.all_value, r.unit, delta=True)} "
                                 f"({r.lag:.0f}%)",
             "Target": target_text(r.target, r.unit, r.target_basis),
             "People affected": f"{int(r.people_affected):,}",
             "Status": STATUS_LABELS[r.status], "Rank": int(r.priority_rank), "_class": r.status}
            for r in behind.itertuples()]
    sections.append({
        "id": "fig-segments", "title": "Segment review: segments behind all users",
        "text": "Segments with a gap whose value is worse than that of all users: missed gaps "
                "first, then at risk, each by how far behind all users the segment is (in % of "
                "the all-users value, counted up to 100%), then by people affected. Rank: the "
                "gap's priority rank by impact.",
        **({"table": {"columns": list(rows[0])[:-1], "rows": rows}} if rows else
           {"after": "No segment is behind all users on a KPI with a gap."})})
    if len(behind):
        findings.append(Finding("Furthest behind all users: " + "; ".join(
            f"{labels.segment(r.segment_id)} on {labels.kpi(r.kpi_id)}, "
            f"{fmt_with_interval(r.actual, r.ci_low, r.ci_high, r.unit)} against "
            f"{fmt_value(r.all_value, r.unit)} for all users ({STATUS_LABELS[r.status]}, "
            f"{int(r.people_affected):,} people affected, priority rank {int(r.priority_rank)})"
            for r in behind.head(2).itertuples()) + ".", "fig-segments", "segment"))


def trend_values(marts: Marts, grain: str, start: date) -> pd.DataFrame:
    """`kpi_values` of all users for the trend window and the same period last year."""
    first = add_months(start, -period_step(grain) * (TREND_PERIODS[grain] - 1))
    return marts.query("kpi_values", "SELECT kpi_id, period_start, value, ci_low, ci_high, n "
                       "FROM marts.kpi_values WHERE period_grain = ? AND segment_id = 'all' AND "
                       "(period_start BETWEEN ? AND ? OR period_start = ?)",
                       [grain, first, start, add_months(start, -12)])


def add_headline_trends(marts: Marts, labels: Labels, score: pd.DataFrame, grain: str,
                        start: date, sections: list[dict[str, Any]]) -> None:
    """Every KPI of all users: this period with its interval, the previous period, the same
    period last year, a sparkline of the trend window, the target and the status."""
    values = trend_values(marts, grain, start)
    if not len(values):
        return
    values["period"] = values.period_start.map(lambda p: pd.Timestamp(p).date())
    step, count = period_step(grain), TREND_PERIODS[grain]
    window = [add_months(start, -step * k) for k in range(count - 1, -1, -1)]
    previous, last_year = window[-2], add_months(start, -12)
    targets = score[score.segment_id == "all"].set_index("kpi_id") if len(score) else None
    streaks = gap_streaks(marts, grain, start)
    one, many = GRAIN_WORDS[grain]
    catalog = marts.query("kpi_catalog", "SELECT kpi_id, domain FROM raw.kpi_catalog",
                          schema="raw")
    domains = dict(zip(catalog.kpi_id, catalog.domain, strict=True)) if len(catalog) else {}
    rows = []
    kpis = sorted(set(values.kpi_id[values.period == start]),
                  key=lambda k: (DOMAIN_ORDER.get(domains.get(k, ""), 9), labels.kpi(k)))
    for kpi_id in kpis:
        mine = values[values.kpi_id == kpi_id].set_index("period")
        unit = labels.unit(kpi_id)
        now = mine.loc[start]
        target = targets.loc[kpi_id] if targets is not None and kpi_id in targets.index else None
        status = target.status if target is not None else ""
        streak = streaks.get((kpi_id, "all"), 0)
        rows.append({
            "KPI": labels.kpi(kpi_id),
            f"This {one} (95% interval)": fmt_with_interval(now.value, now.ci_low, now.ci_high,
                                                            unit),
            f"Previous {one}": fmt_value(mine.value.get(previous), unit),
            f"Same {one} last year": fmt_value(mine.value.get(last_year), unit)
            if last_year in mine.index else NO_HISTORY,
            f"Last {count} {many}": sparkline(
                f"trend-{kpi_id}", [mine.value.get(p) for p in window],
                f"{labels.kpi(kpi_id)}, {period_label(window[0], grain)} to "
                f"{period_label(start, grain)}",
                target.target if target is not None else None),
            "Target": target_text(target.target, unit, target.target_basis)
            if target is not None else "no target",
            "Status": status_text(status, streak),
            "_class": row_class(status, streak)})
    sections.append({
        "id": "fig-scorecard", "title": "Scorecard: all users, with the trend",
        "text": f"Each KPI of all users this {one}, against the previous {one}, the same {one} "
                f"last year (once the warehouse holds it) and its last {count} {many} "
                f"(sparkline: dashed line = target, dot = this {one}). Persistent: a gap "
                f"{PERSISTENT_PERIODS} {many} in a row.",
        "table": without_empty_history(rows, f"Same {one} last year")})


def without_empty_history(rows: list[dict[str, Any]], column: str) -> dict[str, Any]:
    """The table of `rows`, leaving out the last-year column when no row has history there
    (the warehouse holds less than a year before the period)."""
    columns = [c for c in rows[0] if c != "_class"]
    if all(row[column] == NO_HISTORY for row in rows):
        columns.remove(column)
    return {"columns": columns, "rows": rows}
