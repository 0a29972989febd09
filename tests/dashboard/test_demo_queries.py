"""The dashboard's queries on the demo's exports: the fact-based Pareto agrees with the mart,
the corrective-action follow-up and gap list hold what the pages promise, and the exports
beside the marts carry no personal data."""

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard import queries
from dashboard.data import Exports


@pytest.fixture(scope="module")
def ex(demo_dir: Path) -> Exports:
    return Exports(demo_dir / "exports")


@pytest.mark.slow
def test_fact_based_pareto_equals_the_mart(ex: Exports) -> None:
    """Segment and drill filters recompute the Pareto from fct_tickets: with no filter the
    result must be the mart's, row for row."""
    periods = ex.query("SELECT DISTINCT period_grain, period_start, dimension "
                       "FROM {marts/rca_pareto}")
    assert len(periods) > 12
    for grain, start, dimension in periods.itertuples(index=False):
        mart = queries.pareto(ex, grain, start.date(), dimension, ["all"], {})
        facts = queries.ticket_pareto(ex, grain, start.date(), dimension, ["all"], {})
        pd.testing.assert_frame_equal(facts, mart, check_dtype=False)


@pytest.mark.slow
def test_a_drill_and_a_segment_narrow_the_tickets(ex: Exports) -> None:
    june = date(2025, 6, 1)
    groups = queries.pareto(ex, "month", june, "fishbone_group", ["all"], {})
    top = groups["item"].iloc[0]
    within = queries.pareto(ex, "month", june, "category", ["all"], {"fishbone_group": top})
    assert within["tickets"].sum() == groups["tickets"].iloc[0]
    new_users = queries.pareto(ex, "month", june, "fishbone_group", ["new_users"], {})
    assert 0 < new_users["tickets"].sum() < groups["tickets"].sum()
    assert new_users["cumulative_share"].iloc[-1] == pytest.approx(1.0)


@pytest.mark.slow
def test_corrective_actions_follow_up(ex: Exports) -> None:
    register = ex.query("SELECT * FROM {reference/corrective_actions}")
    directions = queries.catalog(ex).set_index("kpi_id")["direction"]
    actions = queries.action_progress(queries.corrective_actions(ex, date(2026, 1, 1)),
                                      directions, date(2025, 12, 31))
    assert actions["action_id"].tolist() == sorted(register["action_id"])
    early = queries.corrective_actions(ex, date(2025, 8, 1))
    assert set(early["action_id"]) == set(
        register.loc[register["start_date"] < "2025-08-01", "action_id"])
    started = actions[actions["start_date"] < "2025-12-01"]
    assert started["before_value"].notna().all()
    assert (started["before_month"] < started["start_date"]).all()
    followed = started[started["latest_value"].notna()]
    assert len(followed) >= 4
    assert (followed["latest_month"] >= followed["start_date"].dt.to_period("M").dt.start_time
            ).all()
    overdue = actions["days_overdue"].notna()
    assert not actions.loc[overdue, "is_closed"].any()
    assert (actions.loc[overdue, "due_date"] < "2025-12-31").all()
    assert set(actions["verdict"]) <= {"working", "not yet", "not working"}


@pytest.mark.slow
def test_gaps_are_ranked_with_since(ex: Exports) -> None:
    gaps = queries.gaps(ex, "month", date(2025, 12, 1))
    assert len(gaps) and set(gaps["status"]) <= {"missed", "at_risk"}
    assert (gaps["since"] <= "2025-12-01").all()
    ranked = gaps["priority_rank"].dropna()
    assert ranked.is_monotonic_increasing


@pytest.mark.slow
def test_exports_beside_the_marts_hold_no_personal_data(demo_dir: Path) -> None:
    exports = demo_dir / "exports"
    names = {p.relative_to(exports).with_suffix("").as_posix()
             for p in exports.glob("*/*.parquet")}
    assert {"reference/kpi_catalog", "reference/corrective_actions", "quality/validation_runs",
            "quality/validation_entities", "quality/quarantine_summary"} <= names
    with duckdb.connect() as con:
        for folder in ("quality", "reference"):
            for path in (exports / folder).glob("*.parquet"):
                columns = {r[0] for r in con.execute(
                    "DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()}
                assert not columns & {"record_key", "reason", "landing_file", "examples",
                                      "person_id", "email"}, path
