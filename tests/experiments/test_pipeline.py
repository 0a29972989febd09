"""The planted experiments end to end: sample data → raw → dbt → experiment marts.

The sample generator plants four experiments with a known truth (manifest.json, stories.json):
a real lift (ship), no effect (no_difference), a broken split (invalid: sample-ratio mismatch)
and one too small to conclude (inconclusive). Built for two seeds.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest

from tests.conftest import DBT_PROJECT, SampleBuild

pytestmark = pytest.mark.slow
LOCAL = timedelta(hours=2)  # Africa/Johannesburg


def test_planted_decisions(experiment_build: SampleBuild) -> None:
    expected = {s["expect"]["experiment_id"]: s["expect"]["decision"]
                for s in experiment_build.stories() if s["expect"]["mart"] ==
                "experiment_results"}
    assert set(expected.values()) == {"ship", "no_difference", "invalid", "inconclusive"}
    results = experiment_build.query(
        "select experiment_id, decision, decision_reason, is_final, srm_flag "
        "from marts.experiment_results")
    decided = results.groupby("experiment_id").decision.unique().map(list).to_dict()
    assert decided == {e: [d] for e, d in expected.items()}, results.to_string()
    assert results.is_final.all()
    flagged = set(results[results.srm_flag].experiment_id)
    assert flagged == {e for e, d in expected.items() if d == "invalid"}
    assert results.decision_reason.str.len().gt(40).all()


def test_units_match_the_planted_truth(experiment_build: SampleBuild) -> None:
    """Units per variant (multi-variant units left out) and the multi-variant count are the
    generator's own count of the visits it tagged; each result row carries both arms."""
    exposures = experiment_build.query(
        "select experiment_id, variant, is_multi_variant, count(*) as n "
        "from marts.fct_experiment_exposures group by all")
    results = experiment_build.query(
        "select distinct experiment_id, control_variant, variant, units, control_units, "
        "multi_variant_units from marts.experiment_results")
    for truth in experiment_build.manifest()["experiments"]:
        mine = exposures[exposures.experiment_id == truth["experiment_id"]]
        single = mine[~mine.is_multi_variant]
        assert dict(zip(single.variant, single.n, strict=True)) == truth["units"]
        assert mine[mine.is_multi_variant].n.sum() == truth["multi_variant_units"]
        rows = results[results.experiment_id == truth["experiment_id"]]
        for row in rows.itertuples():
            assert row.units == truth["units"][row.variant]
            assert row.control_units == truth["units"][row.control_variant]
            assert row.multi_variant_units == truth["multi_variant_units"]
    assert exposures[exposures.is_multi_variant].n.sum() > 0


def test_campaign_traffic_outside_experiments_is_ignored(
        experiment_build: SampleBuild) -> None:
    campaigns = experiment_build.query(
        "select campaign_name, count(*) as n from staging.stg_matomo__visit_campaigns "
        "where campaign_name is not null group by 1")
    assert "winter_skills_2025" in set(campaigns.campaign_name)  # referrerName only
    exposed = experiment_build.query(
        "select distinct experiment_id from marts.fct_experiment_exposures")
    registered = {r["experiment_id"] for r in csv.DictReader(
        (DBT_PROJECT / "seeds" / "experiments.csv").open(encoding="utf-8"))}
    assert set(exposed.experiment_id) <= registered


def test_lift_recomputed_from_the_raw_visits(experiment_build: SampleBuild) -> None:
    """visit_conversion of the lift experiment, recomputed with plain Python from the
    generated Matomo files (exposure rules of DESIGN.md section 11), and its unpooled z test."""
    truth = next(t for t in experiment_build.manifest()["experiments"]
                 if t["expected_decision"] == "ship")
    start, end = date.fromisoformat(truth["start_date"]), date.fromisoformat(truth["end_date"])
    visits_by_visitor = defaultdict(list)
    for path in sorted((experiment_build.drop / "matomo" / "visits").glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            visit = orjson.loads(line)
            visits_by_visitor[visit["visitorId"]].append(visit)
    units: dict[str, tuple[str, float]] = {}
    for visitor, visits in visits_by_visitor.items():
        exposures = sorted(
            (v["firstActionTimestamp"], v["idVisit"], v["campaignContent"]) for v in visits
            if v.get("campaignName") == truth["campaign_name"]
            and v.get("campaignContent") in truth["variants"]
            and start <= (datetime.fromtimestamp(v["firstActionTimestamp"], UTC)
                          + LOCAL).date() <= end)
        if exposures and len({e[2] for e in exposures}) == 1:
            first = exposures[0][0]
            converted = any(
                a.get("eventAction") in ("contact_seller", "ad_post_completed")
                for v in visits if first <= v["firstActionTimestamp"] < first + 30 * 86400
                for a in v["actionDetails"])
            units[visitor] = (exposures[0][2], float(converted))
    control, treatment = truth["variants"]
    n = {v: sum(1 for u in units.values() if u[0] == v) for v in truth["variants"]}
    k = {v: sum(c for u, c in units.values() if u == v) for v in truth["variants"]}
    p_c, p_t = k[control] / n[control], k[treatment] / n[treatment]
    se = math.sqrt(p_c * (1 - p_c) / n[control] + p_t * (1 - p_t) / n[treatment])
    row = experiment_build.query(
        "select * from marts.experiment_results where experiment_id = "
        f"'{truth['experiment_id']}' and metric_id = 'visit_conversion'").iloc[0]
    assert (row.units, row.control_units) == (n[treatment], n[control])
    assert row.value == pytest.approx(p_t)
    assert row.control_value == pytest.approx(p_c)
    assert row.p_value == pytest.approx(math.erfc(abs(p_t - p_c) / se / math.sqrt(2)))
    assert row.ci_low == pytest.approx(p_t - p_c - 1.959963984540054 * se)


def test_marts_contract_columns(experiment_build: SampleBuild) -> None:
    """The DESIGN.md section 11 columns, in the marts schema."""
    columns = experiment_build.query(
        "select table_name, list(column_name) as columns from information_schema.columns "
        "where table_schema = 'marts' and table_name in ('fct_experiment_exposures', "
        "'experiment_results') group by 1")
    have = {r.table_name: set(r.columns) for r in columns.itertuples()}
    assert {"experiment_id", "unit_id", "variant", "first_exposed_at",
            "is_multi_variant"} <= have["fct_experiment_exposures"]
    assert {"experiment_id", "variant", "metric_id", "is_primary", "units", "value",
            "control_value", "abs_effect", "rel_effect", "ci_low", "ci_high", "p_value",
            "p_value_adjusted", "srm_p_value", "srm_flag", "achieved_mde", "decision",
            "decision_reason", "is_final"} <= have["experiment_results"]


def test_sample_registry_matches_the_planted_experiments(
        experiment_build: SampleBuild) -> None:
    """The demo's registry rows describe the experiments the generator planted."""
    registry = {r["experiment_id"]: r for r in csv.DictReader(
        (DBT_PROJECT / "seeds" / "experiments.csv").open(encoding="utf-8"))}
    for truth in experiment_build.manifest()["experiments"]:
        row = registry[truth["experiment_id"]]
        assert row["campaign_name"] == truth["campaign_name"]
        assert row["unit"] == truth["unit"]
        assert row["variants"].split("|") == truth["variants"]
        assert (row["start_date"], row["end_date"]) == (truth["start_date"], truth["end_date"])


def test_completion_recomputed_from_the_marts(experiment_build: SampleBuild) -> None:
    """completion_30d of the SMS-reminder experiment (a guardrail), recomputed in pandas from
    the exposures and the enrolments: a completed course of the course programme whose
    completed_at lies from the first exposure up to 30 days later (the end-date bound does not
    bind for exposures within the dates)."""
    exposures = experiment_build.query(
        "select unit_id, person_id, variant, first_exposed_at from marts.fct_experiment_exposures"
        " where experiment_id = 'course_reminder_sms' and not is_multi_variant")
    completions = experiment_build.query(
        "select person_id, completed_at from marts.fct_enrolments "
        "where programme = 'course' and is_completed and completed_at is not null "
        "and person_id is not null")
    joined = exposures.merge(completions, on="person_id", how="left")
    joined["in_window"] = (joined.completed_at >= joined.first_exposed_at) & (
        joined.completed_at < joined.first_exposed_at + timedelta(days=30))
    per_unit = joined.groupby(["unit_id", "variant"]).in_window.any().reset_index()
    expected = per_unit.groupby("variant").in_window.mean().to_dict()
    assert sum(per_unit.in_window) > 0  # the sample has completions to count
    rows = experiment_build.query(
        "select variant, control_variant, value, control_value, is_primary "
        "from marts.experiment_results "
        "where experiment_id = 'course_reminder_sms' and metric_id = 'completion_30d'")
    [row] = rows.itertuples()
    assert not row.is_primary
    assert row.value == pytest.approx(expected[row.variant])
    assert row.control_value == pytest.approx(expected[row.control_variant])
