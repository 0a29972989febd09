"""How the reports show the scorecard, on a small hand-made warehouse (no pipeline run): values
with their units, the gap list in priority_rank order with people, intervals, placeholder
targets and persistent gaps, small samples as a compact table, corrective-action verdicts, and
the Markdown twin's chart images."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest

from reports.actions import verdict
from reports.quarterly import render_quarterly_review
from reports.units import fmt_interval, fmt_value, fmt_with_interval


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (0.6251, "rate", "62.5%"),
    (0.0, "rate", "0.0%"),
    (184.5, "minutes", "3.1 h"),
    (592.0167, "minutes", "9.9 h"),
    (45.2, "minutes", "45 min"),
    (4.46, "minutes", "4.5 min"),
    (119.4, "minutes", "119 min"),
    (206.7, "seconds", "3:27 min"),
    (42.4, "seconds", "42 s"),
    (3725, "seconds", "1:02:05 h"),
    (23.913, "points", "23.9 points"),
    (-27.3, "points", "-27.3 points"),
    (3.8225, "pages", "3.82 pages"),
    (1204, "tickets", "1,204 tickets"),
    (1, "tickets", "1 ticket"),
    (4655, "visits", "4,655 visits"),
    (2739.0, "visitors", "2,739 visitors"),
    (186, "learners", "186 learners"),
    (618.717, "widgets", "618.72 widgets"),
    (None, "rate", "n/a"),
    (float("nan"), "minutes", "n/a"),
    (pd.NA, "points", "n/a"),
    (-0.00001, "rate", "0.0%"),
])
def test_values_read_with_their_unit(value: object, unit: str, expected: str) -> None:
    assert fmt_value(value, unit) == expected


@pytest.mark.parametrize(("change", "unit", "expected"), [
    (0.025, "rate", "+2.5 pp"),
    (-0.19, "rate", "-19.0 pp"),
    (-70, "minutes", "-70 min"),
    (352, "minutes", "+5.9 h"),
    (12, "tickets", "+12 tickets"),
    (-55.2, "points", "-55.2 points"),
    (0.0, "rate", "±0.0 pp"),
])
def test_differences_are_signed_and_rates_in_points(change: float, unit: str,
                                                     expected: str) -> None:
    assert fmt_value(change, unit, delta=True) == expected


def test_intervals_share_their_unit() -> None:
    assert fmt_interval(0.568, 0.775, "rate") == "56.8–77.5%"
    assert fmt_interval(150, 200, "minutes") == "2.5–3.3 h"
    assert fmt_interval(100, 200, "minutes") == "100 min–3.3 h"
    assert fmt_interval(-71.6, 17.0, "points") == "-71.6 to 17.0 points"
    assert fmt_interval(None, 0.5, "rate") == ""
    assert fmt_with_interval(0.68, 0.568, 0.775, "rate") == "68.0% (56.8–77.5%)"
    assert fmt_with_interval(592.0, None, None, "minutes") == "9.9 h"


def _v(value: float, low: float | None = None, high: float | None = None) -> SimpleNamespace:
    return SimpleNamespace(value=value, ci_low=low, ci_high=high)


@pytest.mark.parametrize(("before", "after", "direction", "status", "finished", "expected"), [
    (_v(0.5, 0.45, 0.55), _v(0.7, 0.65, 0.75), "higher_is_better", "at_risk", False, "working"),
    (_v(0.5, 0.4, 0.6), _v(0.55, 0.45, 0.65), "higher_is_better", "at_risk", False, "not yet"),
    (_v(0.5, 0.4, 0.6), _v(0.55, 0.45, 0.65), "higher_is_better", "at_risk", True,
     "not working"),
    (_v(0.5, 0.45, 0.55), _v(0.3, 0.25, 0.35), "higher_is_better", "missed", False,
     "not working"),
    (_v(0.5, 0.4, 0.6), _v(0.45, 0.35, 0.55), "higher_is_better", "met", True, "working"),
    (_v(320.0), _v(187.0), "lower_is_better", "met", True, "working"),
    (_v(630.0), _v(450.0), "lower_is_better", None, False, "working"),
    (_v(450.0), _v(430.0), "lower_is_better", None, False, "not yet"),
    (_v(450.0), _v(520.0), "lower_is_better", None, False, "not working"),
])
def test_action_verdicts(before: SimpleNamespace, after: SimpleNamespace, direction: str,
                         status: str | None, finished: bool, expected: str) -> None:
    assert verdict(before, after, direction, status, finished)[0] == expected


# --- A hand-made warehouse for 2025-Q3 -------------------------------------------------------

Q1, Q2, Q3 = date(2025, 1, 1), date(2025, 4, 1), date(2025, 7, 1)
HOSTILE = "<script>alert(1)</script> & Co"


def _score(quarter: date, kpi_id: str, segment_id: str, actual: float | None, target: float,
           status: str, rank: int | None, people: int, n: int, *, unit: str = "rate",
           ci: tuple[float, float] | None = None, weight: int = 2, basis: str = "saypro_plan",
           all_value: float | None = None) -> dict[str, object]:
    shortfall = None if actual is None else max(0.0, target - actual)
    pct = None if shortfall is None else 100 * shortfall / target
    impact = None if pct is None else min(pct, 100) / 100 * people * weight
    return {"period_grain": "quarter", "period_start": quarter, "kpi_id": kpi_id,
            "segment_id": segment_id, "actual": actual, "target": target,
            "direction": "higher_is_better", "shortfall_pct": pct, "status": status,
            "weight": weight, "impact_score": impact, "impact_tier": "high" if rank else None,
            "priority_rank": rank, "n": n, "people_affected": people, "unit": unit,
            "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
            "target_basis": basis, "all_value": all_value,
            "is_underperforming_segment": all_value is not None and actual is not None
            and actual < all_value}


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, Path]:
    """2025-Q3 rendered from a warehouse holding only the marts the scorecard sections read:
    a large segment's moderate gap, missed three quarters running (rank 1); one KPI with the
    same figures for all and new users (ranks 2 and 3, a placeholder target); a tiny segment
    with a large gap (rank 4); suppressed rows with a few and with no observations."""
    tmp = tmp_path_factory.mktemp("hand_made")
    rows = []
    for quarter in (Q1, Q2, Q3):
        rows.append(_score(quarter, "course_completion_rate", "youth_18_34", 0.72, 0.80,
                           "missed", 1, 1200, 1300, ci=(0.695, 0.745), weight=3,
                           all_value=0.81))
    rows += [
        _score(Q3, "first_ad_success_rate", "all", 0.023, 0.05, "at_risk", 2, 262, 262,
               ci=(0.011, 0.049), basis="placeholder"),
        _score(Q3, "first_ad_success_rate", "new_users", 0.023, 0.05, "at_risk", 3, 262, 262,
               ci=(0.011, 0.049), basis="placeholder", all_value=0.023),
        _score(Q3, "course_completion_rate", "unemployed_youth_eastern_cape", 0.375, 0.75,
               "missed", 4, 16, 24, ci=(0.212, 0.573), weight=3, basis="placeholder",
               all_value=0.81),
        _score(Q3, "course_completion_rate", "all", 0.81, 0.80, "met", None, 1800, 2000,
               ci=(0.79, 0.83), weight=3),
        _score(Q3, "nps", "informal_traders_limpopo", None, 30, "insufficient_data", None, 4, 4,
               unit="points"),
        _score(Q3, "survey_csat", "informal_traders_limpopo", None, 0.9, "insufficient_data",
               None, 0, 0),
        _score(Q3, "survey_csat", "hostile", None, 0.9, "insufficient_data", None, 3, 3),
    ]
    scorecard = pd.DataFrame(rows)
    values = pd.DataFrame([
        {"period_grain": "quarter", "period_start": q, "kpi_id": k, "segment_id": s,
         "value": v, "ci_low": lo, "ci_high": hi, "n": n}
        for q, k, s, v, lo, hi, n in [
            (Q2, "first_reply_median_minutes", "all", 320.1, None, None, 405),
            (Q3, "first_reply_median_minutes", "all", 181.5, None, None, 555),
            (Q2, "ticket_volume", "all", 450, None, None, 450),
            (Q3, "ticket_volume", "all", 630, None, None, 630),
            (Q3, "avg_time_on_site_seconds", "all", 206.7, 200.1, 213.3, 4655),
            (Q2, "course_completion_rate", "all", 0.70, 0.68, 0.72, 1900),
            (Q3, "course_completion_rate", "all", 0.81, 0.79, 0.83, 2000),
            (Q1, "course_completion_rate", "youth_18_34", 0.70, 0.675, 0.725, 1300),
            (Q3, "course_completion_rate", "youth_18_34", 0.72, 0.695, 0.745, 1300)]])
    catalog = pd.DataFrame({
        "kpi_id": ["course_completion_rate", "first_ad_success_rate", "nps", "survey_csat",
                   "first_reply_median_minutes", "ticket_volume", "avg_time_on_site_seconds"],
        "name": ["Course completion rate", "First ad success rate", "Net Promoter Score",
                 "Survey CSAT", "Median first reply time", "Ticket volume",
                 "Average time on site"],
        "domain": ["learning", "web", "surveys", "surveys", "support", "support", "web"],
        "unit": ["rate", "rate", "points", "rate", "minutes", "tickets", "seconds"],
        "direction": ["higher_is_better", "higher_is_better", "higher_is_better",
                      "higher_is_better", "lower_is_better", "lower_is_better",
                      "higher_is_better"]})
    segments = pd.DataFrame({
        "segment_id": ["youth_18_34", "new_users", "unemployed_youth_eastern_cape",
                       "informal_traders_limpopo", "hostile"],
        "name": ["Youth aged 18-34", "New users", "Unemployed youth in the Eastern Cape",
                 "Informal traders in Limpopo", HOSTILE],
        "active_from": [Q1] * 5})
    actions = pd.DataFrame({
        "action_id": ["CA-01", "CA-02", "CA-03"],
        "action": ["Weekend cover roster", "Payment fallback", "Mentoring"],
        "kpi_id": ["first_reply_median_minutes", "ticket_volume", "course_completion_rate"],
        "segment_id": ["all", "all", "youth_18_34"],
        "owner": ["Support lead", "Classifieds", "Programmes"],
        "start_date": [date(2025, 6, 20), date(2025, 9, 15), date(2025, 5, 1)],
        "due_date": [date(2025, 8, 31), date(2025, 11, 30), date(2025, 8, 15)],
        "status": ["done", "in_progress", "in_progress"],
        "closed_date": [date(2025, 10, 2), None, None]})
    warehouse = tmp / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA raw")
        for name, frame in [("marts.kpi_scorecard", scorecard), ("marts.kpi_values", values),
                            ("raw.kpi_catalog", catalog), ("marts.dim_segment", segments),
                            ("raw.corrective_actions", actions)]:
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    result = render_quarterly_review(warehouse, "2025-Q3", tmp / "reports")
    return result.html_path.read_text(), result.md_path.read_text(), tmp / "reports"


def _md_table(markdown: str, heading: str) -> list[list[str]]:
    """The cells of the first table under the `## heading` of a Markdown report."""
    section = markdown.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("| ")]


def test_gap_list_in_priority_order_with_people_intervals_and_targets(review) -> None:
    _, markdown, _ = review
    header, *rows = _md_table(markdown, "Gaps this quarter, by priority")
    assert header == ["Rank", "KPI", "Segment", "Actual (95% interval)", "Target",
                      "Gap to target", "People affected", "Impact", "Status", "Gap since"]
    assert rows[0] == ["1", "Course completion rate", "Youth aged 18-34",
                       "72.0% (69.5–74.5%)", "80.0%", "-8.0 pp (10%)", "1,200", "360 (high)",
                       "missed, persistent", "since 2025-Q1 (3 quarters)"]
    assert rows[1][:5] == ["2, 3", "First ad success rate",
                           "All users; New users (identical figures)", "2.3% (1.1–4.9%)",
                           "5.0% (placeholder)"]
    assert rows[1][8:] == ["at risk", "new this quarter"]
    assert rows[2][:3] == ["4", "Course completion rate", "Unemployed youth in the Eastern Cape"]
    assert rows[2][4:7] == ["75.0% (placeholder)", "-37.5 pp (50%)", "16"]
    assert len(rows) == 3


def test_persistent_gap_is_flagged_in_html(review) -> None:
    html, _, _ = review
    assert html.count('class="missed persistent"') == 1


def test_small_samples_are_one_compact_row_per_segment(review) -> None:
    _, markdown, _ = review
    header, *rows = _md_table(markdown, "Small samples (not shown, not ranked)")
    assert header == ["Segment", "Fewer than 10 observations: KPI (n)", "No observations"]
    assert ["Informal traders in Limpopo", "Net Promoter Score (4)", "Survey CSAT"] in rows
    assert len(rows) == 2


def test_data_is_escaped_in_html(review) -> None:
    html, _, _ = review
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


def test_headline_values_carry_units_and_trends(review) -> None:
    html, markdown, _ = review
    header, *rows = _md_table(markdown, "Scorecard: all users, with the trend")
    assert header == ["KPI", "This quarter (95% interval)", "Previous quarter",
                      "Last 4 quarters", "Target", "Status"]  # no history a year back
    cells = {r[0]: r for r in rows}
    assert cells["Median first reply time"][1:3] == ["3.0 h", "5.3 h"]
    assert cells["Ticket volume"][1:3] == ["630 tickets", "450 tickets"]
    assert cells["Average time on site"][1] == "3:27 min (3:20–3:33 min)"
    assert cells["Course completion rate"][1:3] == ["81.0% (79.0–83.0%)", "70.0%"]
    assert cells["Course completion rate"][4:] == ["80.0%", "met"]
    assert "206.7" not in html and "618.717" not in html


def test_corrective_actions_before_after_and_verdicts(review) -> None:
    _, markdown, _ = review
    header, *rows = _md_table(markdown, "Corrective actions: progress")
    assert header == ["Action", "Owner", "KPI (segment)", "Before", "After", "Target",
                      "Opened", "Due", "Days open", "Overdue", "Verdict"]
    roster, fallback, mentoring = rows
    # Opened 20 June (most of Q2 had passed): before = Q2; closed after the quarter's end, so
    # still open in this review; without a target, 43% faster is clearly better.
    assert roster[0].endswith("(in progress)")
    assert roster[3:5] == ["2025-Q2: 5.3 h, n 405", "2025-Q3: 3.0 h, n 555"]
    assert roster[8:] == ["102", "30 days", "working: clearly better than before"]
    assert fallback[3:5] == ["2025-Q3: 630 tickets", "too early"]
    assert fallback[10].startswith("not yet: too early")
    # Opened 1 May: before = Q1; unchanged and overdue.
    assert mentoring[3] == "2025-Q1: 70.0% (67.5–72.5%), n 1,300"
    assert mentoring[9:] == ["46 days", "not working: no clear change by its due date or close"]


def test_markdown_embeds_the_charts_as_files_beside_it(review) -> None:
    html, markdown, out = review
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert images and all(i.startswith("quarterly_review_2025-Q3_files/") for i in images)
    for image in images:
        assert (out / image).read_bytes().startswith(b"\x89PNG")
    assert len(images) == len(list((out / "quarterly_review_2025-Q3_files").iterdir()))
    assert "<img" not in html and "_files/" not in html  # the HTML stays self-contained
    assert html.count("<svg") == len(images)
