"""Seeds written with the columns of DESIGN.md alone build (sections 6-8).

A deployment edits its seeds from the contract: it may append a target or a segment with the
contract's columns only, or write a seed without the columns this project adds (kpi_targets'
basis, ticket_taxonomy's taxonomy_rank). One build of a project copy covers both: a target and
a segment appended as contract rows, the taxonomy rewritten without its rank.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import DBT_PROJECT, SampleBuild, run_dbt

CONTRACT_COLUMNS = {
    "kpi_catalog": ["kpi_id", "name", "domain", "unit", "direction", "description"],
    "segments": ["segment_id", "name", "family", "rule", "active_from", "active_to", "owner"],
    "experiments": ["experiment_id", "name", "hypothesis", "unit", "campaign_name", "variants",
                    "allocation", "start_date", "end_date", "primary_metric",
                    "guardrail_metrics", "mde_relative", "owner", "status"],
}
TARGET_ROW = "ticket_volume,premium_users,month,5,10,3,Acceptance owner,2025-01-01\n"
SEGMENT_ROW = "premium_test,Premium (test),micro,is_premium,2025-01-01,,Acceptance owner\n"


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return next(csv.reader(fh))


@pytest.mark.parametrize("seed", sorted(CONTRACT_COLUMNS))
def test_seed_has_exactly_the_contract_columns(seed: str) -> None:
    assert _header(DBT_PROJECT / "seeds" / f"{seed}.csv") == CONTRACT_COLUMNS[seed]


@pytest.fixture(scope="module")
def contract_build(sample_warehouse: SampleBuild, tmp_path_factory: pytest.TempPathFactory
                   ) -> SampleBuild:
    root = tmp_path_factory.mktemp("contract_seeds")
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    seeds = project / "seeds"
    for name, row in (("kpi_targets", TARGET_ROW), ("segments", SEGMENT_ROW)):
        with (seeds / f"{name}.csv").open("a", encoding="utf-8") as fh:
            fh.write(row)
    taxonomy = pd.read_csv(seeds / "ticket_taxonomy.csv")
    taxonomy.drop(columns="taxonomy_rank").to_csv(seeds / "ticket_taxonomy.csv", index=False)

    build = sample_warehouse.with_warehouse(root)
    proc = run_dbt(project, root, build.data_dir, build.warehouse, "build",
                   "--exclude-resource-type", "unit_test", "--select",
                   "kpi_targets+", "segments+", "ticket_taxonomy+")
    assert proc.returncode == 0, proc.stdout[-6000:]
    return build


def _query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def test_appended_target_is_scored_without_a_basis(contract_build: SampleBuild,
                                                   sample_warehouse: SampleBuild) -> None:
    added = _query(contract_build.warehouse, """
        select target, weight, owner, target_basis, status from marts.kpi_scorecard
        where kpi_id = 'ticket_volume' and segment_id = 'premium_users'""")
    assert len(added) > 0
    assert (added["target"] == 5).all() and (added["weight"] == 3).all()
    assert (added["owner"] == "Acceptance owner").all()
    assert added["target_basis"].isna().all()
    keys = ["period_grain", "period_start", "kpi_id", "segment_id"]
    columns = ", ".join([*keys, "target", "status", "target_basis", "priority_rank"])
    before = _query(sample_warehouse.warehouse, f"select {columns} from marts.kpi_scorecard")
    after = _query(contract_build.warehouse, f"""
        select {columns} from marts.kpi_scorecard
        where not (kpi_id = 'ticket_volume' and segment_id = 'premium_users')
          and segment_id <> 'premium_test'""")
    # the other rows keep their target, basis and status (ranks move: the new gaps rank too;
    # the new segment has rows of its own, the `all` targets apply to it)
    merged = before.merge(after, on=keys, suffixes=("_before", "_after"))
    assert len(merged) == len(before) == len(after)
    for column in ("target", "status", "target_basis"):
        pd.testing.assert_series_equal(merged[f"{column}_before"], merged[f"{column}_after"],
                                       check_names=False)


def test_appended_segment_is_version_one_with_members(contract_build: SampleBuild) -> None:
    segment = _query(contract_build.warehouse, """
        select version, family, rule, active_to is null as is_open from marts.dim_segment
        where segment_id = 'premium_test'""")
    assert segment.to_dict("records") == [
        {"version": 1, "family": "micro", "rule": "is_premium", "is_open": True}]
    members = _query(contract_build.warehouse, """
        select count(*) as test, count(p.person_id) as premium
        from marts.fct_segment_membership t
        left join marts.fct_segment_membership p
          on p.segment_id = 'premium_users' and p.person_id = t.person_id
         and p.month_start = t.month_start
        where t.segment_id = 'premium_test'""").iloc[0]
    assert members["test"] > 0 and members["premium"] == members["test"]


def test_taxonomy_without_rank_maps_every_ticket(contract_build: SampleBuild,
                                                 sample_warehouse: SampleBuild) -> None:
    """Each ticket takes the category of its first mapped tag (the sample's tickets have one
    mapped tag at most: the rank breaks ties only, the dbt unit test
    int_tickets_measured_edge_cases covers them), the same as with the rank."""
    tickets = _query(contract_build.warehouse, """
        select t.ticket_id, t.category, t.issue_type, t.fishbone_group, s.tags
        from marts.fct_tickets t join staging.stg_zendesk__tickets s using (ticket_id)
        order by t.ticket_id""")
    before = _query(sample_warehouse.warehouse, """
        select ticket_id, category, issue_type, fishbone_group from marts.fct_tickets
        order by ticket_id""")
    pd.testing.assert_frame_equal(tickets.drop(columns="tags"), before)
    taxonomy = pd.read_csv(DBT_PROJECT / "seeds" / "ticket_taxonomy.csv").set_index("tag")
    for row in tickets.itertuples():
        mapped = sorted(tag for tag in row.tags if tag in taxonomy.index)
        assert row.category == (taxonomy.loc[mapped[0], "category"] if mapped
                                else "Uncategorised")
    assert (tickets["category"] != "Uncategorised").sum() > 0
