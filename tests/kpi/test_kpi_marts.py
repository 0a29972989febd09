"""KPI, segment and RCA marts on a generated warehouse: planted stories and invariants.

Needs the `kpi_warehouse` fixture (conftest.py): skipped until the generator and core marts exist.
"""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

pytestmark = pytest.mark.slow

KPI_IDS = {
    "ticket_volume", "first_reply_median_minutes", "frt_sla_compliance",
    "resolution_sla_compliance", "reopen_rate", "ticket_csat", "visits", "unique_visitors",
    "bounce_rate", "pages_per_visit", "avg_time_on_site_seconds", "ad_ctr", "conversion_rate",
    "course_completion_rate", "event_attendance_rate", "pass_rate", "active_learners", "nps",
    "survey_csat", "employment_outcome_rate", "negative_comment_share", "first_ad_success_rate",
}
STARTING_SEGMENTS = {
    "new_users", "repeat_users", "technical_issue_users", "premium_users",
    "incomplete_action_users", "youth_18_34", "unemployed",
    "single_mothers_periurban_gauteng", "unemployed_youth_eastern_cape", "informal_traders_limpopo",
} | {f"province_{p}" for p in (
    "eastern_cape", "free_state", "gauteng", "kwazulu_natal", "limpopo", "mpumalanga",
    "north_west", "northern_cape", "western_cape")}
ALPHA_Z196 = 2 * norm.sf(1.96)
TZ = ZoneInfo("Africa/Johannesburg")


def _rows(warehouse: Path, sql: str, params: list | None = None) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


# --- planted stories -----------------------------------------------------------------------

def test_payment_surge_is_vital_few_and_recurring_in_q3(kpi_warehouse: Path) -> None:
    top = _rows(kpi_warehouse, """
        select item, share, is_vital_few from marts.rca_pareto
        where period_grain = 'quarter' and period_start = date '2025-07-01'
          and dimension = 'category' order by rank limit 1""")
    assert top and top[0]["item"] == "Billing and Payment" and top[0]["is_vital_few"], top
    recurring = _rows(kpi_warehouse, """
        select month_start, issue_type, tickets, months_in_vital_few_last_3
        from marts.rca_recurring_issues
        where category = 'Billing and Payment' and is_recurring
          and month_start between date '2025-07-01' and date '2025-09-01'""")
    assert recurring, "no recurring Billing and Payment issue type in 2025-Q3"
    top_issue = _rows(kpi_warehouse, """
        select p.item from marts.rca_pareto p
        where p.period_grain = 'quarter' and p.period_start = date '2025-07-01'
          and p.dimension = 'issue_type' order by p.rank limit 1""")[0]["item"]
    assert top_issue in {r["issue_type"] for r in recurring}


def test_eastern_cape_unemployed_youth_completion_gap_is_a_ranked_miss(
        kpi_warehouse: Path) -> None:
    """The planted completion drop is `missed` (its interval lies wholly below the target),
    ranked and flagged; its impact is min(shortfall %, 100) / 100 x people x weight
    (DESIGN.md section 8), recomputed here from kpi_values and the targets seed."""
    rows = _rows(kpi_warehouse, """
        select s.period_start, s.actual, s.target, s.ci_high, s.priority_rank,
               s.impact_score, s.weight, s.people_affected, v.people,
               s.is_underperforming_segment
        from marts.kpi_scorecard as s
        join marts.kpi_values as v using (period_grain, period_start, kpi_id, segment_id)
        where s.period_grain = 'quarter' and s.kpi_id = 'course_completion_rate'
          and s.segment_id = 'unemployed_youth_eastern_cape' and s.status = 'missed'""")
    assert rows, "the Eastern Cape unemployed-youth completion gap is not a miss"
    for r in rows:
        assert r["ci_high"] < r["target"] and r["priority_rank"] is not None
        assert r["is_underperforming_segment"] and r["people_affected"] == r["people"] > 0
        shortfall_pct = 100 * (r["target"] - r["actual"]) / r["target"]
        expected = min(shortfall_pct, 100) / 100 * r["people"] * r["weight"]
        assert abs(r["impact_score"] - expected) < 1e-9


def test_gaps_rank_by_people_affected_not_by_size_alone(kpi_warehouse: Path) -> None:
    """Within a period, a gap with more people behind it and a smaller shortfall can outrank a
    larger shortfall in a small segment: the rank follows impact_score, never shortfall_pct."""
    rows = _rows(kpi_warehouse, """
        select period_grain, period_start, priority_rank, impact_score, shortfall_pct,
               people_affected
        from marts.kpi_scorecard where priority_rank is not null
        order by period_grain, period_start, priority_rank""")
    assert rows
    outranked_by_people = 0
    for before, after in pairwise(rows):
        if (before["period_grain"], before["period_start"]) != (
                after["period_grain"], after["period_start"]):
            continue
        assert before["impact_score"] >= after["impact_score"]
        if (before["shortfall_pct"] < after["shortfall_pct"]
                and before["people_affected"] > after["people_affected"]):
            outranked_by_people += 1
    assert outranked_by_people > 0


def test_new_user_image_upload_issue_is_segment_specific(kpi_warehouse: Path) -> None:
    rows = _rows(kpi_warehouse, """
        select month_start, segment_lift from marts.rca_recurring_issues
        where lower(issue_type) like 'image upload%'
          and top_segment_id = 'new_users' and segment_lift >= 2
          and scope = 'segment_specific'""")
    assert len(rows) >= 3, rows


def test_driver_hint_csat_falls_with_reply_time_over_the_year(kpi_warehouse: Path) -> None:
    rows = _rows(kpi_warehouse, """
        select period_start, value, strength from marts.rca_driver_hints
        where period_grain = 'quarter' and kpi_id = 'ticket_csat'
          and driver = 'first_reply_minutes' and value is not null""")
    assert rows
    assert sum(r["value"] for r in rows) / len(rows) < 0


def test_small_segments_are_suppressed_not_ranked(kpi_warehouse: Path) -> None:
    suppressed = _rows(kpi_warehouse, """
        select status, priority_rank, impact_tier, actual, n from marts.kpi_scorecard
        where reliability = 'suppressed'""")
    assert suppressed, "expected some suppressed small-segment values"
    assert all(r["status"] == "insufficient_data" for r in suppressed)
    assert all(r["priority_rank"] is None and r["impact_tier"] is None for r in suppressed)
    assert all(r["actual"] is None and r["n"] < 10 for r in suppressed)
    micro = _rows(kpi_warehouse, """
        select count(*) as c from marts.kpi_values
        where segment_id = 'informal_traders_limpopo' and period_grain = 'month'
          and kpi_id in ('nps', 'survey_csat') and reliability = 'suppressed'""")
    assert micro[0]["c"] > 0


# --- statistics checked independently --------------------------------------------------------

def test_rate_intervals_are_wilson(kpi_warehouse: Path) -> None:
    rows = _rows(kpi_warehouse, """
        select v.numerator, v.denominator, v.value, v.ci_low, v.ci_high
        from marts.kpi_values v join raw.kpi_catalog c using (kpi_id)
        where c.unit = 'rate' and v.reliability <> 'suppressed'""")
    assert rows
    for r in rows:
        s, n = min(r["numerator"], r["denominator"]), r["denominator"]
        low, high = proportion_confint(s, n, alpha=ALPHA_Z196, method="wilson")
        assert r["value"] == pytest.approx(s / n, abs=1e-12)
        assert r["ci_low"] == pytest.approx(low, abs=1e-9)
        assert r["ci_high"] == pytest.approx(high, abs=1e-9)


def test_quarterly_nps_recomputed_from_responses(kpi_warehouse: Path) -> None:
    responses = _rows(kpi_warehouse, """
        select submitted_at, nps_score from marts.fct_survey_responses
        where form = 'feedback' and nps_score is not null""")
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in responses:
        local = r["submitted_at"].astimezone(TZ)
        quarter = f"{local.year}-{(local.month - 1) // 3 * 3 + 1:02d}-01"
        c = counts[quarter]
        c[0] += r["nps_score"] >= 9
        c[1] += r["nps_score"] <= 6
        c[2] += 1
    published = {str(r["period_start"]): r for r in _rows(kpi_warehouse, """
        select period_start, value, ci_low, ci_high, n, reliability from marts.kpi_values
        where kpi_id = 'nps' and segment_id = 'all' and period_grain = 'quarter'""")}
    assert counts
    for quarter, (prom, det, n) in counts.items():
        row = published[quarter]
        assert row["n"] == n
        if n < 10:
            assert row["value"] is None and row["reliability"] == "suppressed"
            continue
        p, d = prom / n, det / n
        half = 1.96 * 100 * math.sqrt((p + d - (p - d) ** 2) / n)
        assert row["value"] == pytest.approx(100 * (p - d), abs=1e-9)
        assert row["ci_low"] == pytest.approx(100 * (p - d) - half, abs=1e-8)
        assert row["ci_high"] == pytest.approx(100 * (p - d) + half, abs=1e-8)


# --- invariants --------------------------------------------------------------------------------

def test_every_kpi_every_period_for_all_and_starting_segments(kpi_warehouse: Path) -> None:
    rows = _rows(kpi_warehouse, """
        select period_grain, period_start, list(distinct kpi_id) as kpis,
               list(distinct segment_id) as segments
        from marts.kpi_values group by 1, 2""")
    grains = {r["period_grain"] for r in rows}
    assert grains == {"month", "quarter"}
    for r in rows:
        assert set(r["kpis"]) == KPI_IDS, r["period_start"]
        assert STARTING_SEGMENTS | {"all"} <= set(r["segments"]), r["period_start"]


def test_reliability_rule(kpi_warehouse: Path) -> None:
    bad = _rows(kpi_warehouse, """
        select * from marts.kpi_values
        where (n < 10 and (reliability <> 'suppressed' or value is not null))
           or (n >= 10 and n < 30 and reliability <> 'indicative')
           or (n >= 30 and reliability <> 'reliable')
           or (kpi_id in ('ticket_volume', 'visits', 'unique_visitors', 'active_learners')
               and (ci_low is not null or ci_high is not null
                    or (value is not null and value <> n)))""")
    assert not bad, bad[:3]


def test_pareto_vital_few_is_smallest_set_reaching_80_percent(kpi_warehouse: Path) -> None:
    rows = _rows(kpi_warehouse, """
        select period_grain, period_start, dimension, item, tickets, cumulative_share, rank,
               is_vital_few
        from marts.rca_pareto order by period_grain, period_start, dimension, rank""")
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["period_grain"], r["period_start"], r["dimension"])].append(r)
    assert groups
    for key, items in groups.items():
        total = sum(i["tickets"] for i in items)
        order = sorted(items, key=lambda i: (-i["tickets"], i["item"]))
        assert [i["item"] for i in order] == [i["item"] for i in items], key
        running, vital = 0, []
        for i in order:
            vital.append(running * 5 < total * 4)
            running += i["tickets"]
            assert i["cumulative_share"] == pytest.approx(running / total)
        assert [i["is_vital_few"] for i in items] == vital, key


def test_membership_uses_registry_and_is_monthly(kpi_warehouse: Path) -> None:
    dim = _rows(kpi_warehouse, "select segment_id from marts.dim_segment")
    assert {r["segment_id"] for r in dim} >= STARTING_SEGMENTS
    dupes = _rows(kpi_warehouse, """
        select month_start, person_id, segment_id, count(*) from marts.fct_segment_membership
        group by all having count(*) > 1""")
    assert not dupes
    # the province segments partition the people of a month that have a province
    bad = _rows(kpi_warehouse, """
        select p.month_start, p.person_id from intermediate.int_person_months_profiled p
        left join marts.fct_segment_membership m
          on m.month_start = p.month_start and m.person_id = p.person_id
         and m.segment_id = 'province_' || p.province
        where p.province is not null and m.person_id is null limit 5""")
    assert not bad, bad
