"""Experiments: a blocking check on the sample-ratio mismatch of `marts.experiment_results`."""

from pathlib import Path
from typing import NamedTuple

import dagster as dg

from ingestion.connection import connect
from orchestration.resources import WarehouseResource, pipeline_settings

RESULTS_KEY = dg.AssetKey(["marts", "experiment_results"])
# Experiments whose team has dealt with the mismatch: their results stay `invalid` in the mart
# and the reports, without stopping the run.
ACKNOWLEDGED = ("stopped", "concluded")


class Mismatch(NamedTuple):
    experiment_id: str
    status: str
    srm_p_value: float
    units: str  # "control 812, treat 402"


def sample_ratio_mismatches(warehouse: Path) -> list[Mismatch]:
    """Experiments whose units per variant do not fit the planned allocation (srm_flag)."""
    if not warehouse.exists():
        return []
    with connect(warehouse, read_only=True) as con:
        tables = {r[0] for r in con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}
        if not {"marts.experiment_results", "raw.experiments"} <= tables:
            return []
        rows = con.execute("""
            SELECT r.experiment_id, coalesce(any_value(e.status), ''), any_value(r.srm_p_value),
                   any_value(r.control_variant) || ' ' || any_value(r.control_units) || ', '
                   || string_agg(DISTINCT r.variant || ' ' || r.units, ', ')
            FROM marts.experiment_results AS r
            LEFT JOIN raw.experiments AS e USING (experiment_id)
            WHERE r.srm_flag
            GROUP BY r.experiment_id
            ORDER BY r.experiment_id""").fetchall()
    return [Mismatch(*row) for row in rows]


def sample_ratio_result(mismatches: list[Mismatch]) -> dg.AssetCheckResult:
    """Fails (ERROR, blocking) while an experiment with a mismatch is not stopped or concluded:
    its split or tracking is broken and the traffic it still takes is wasted."""
    live = [m for m in mismatches if m.status not in ACKNOWLEDGED]
    described = "; ".join(f"{m.experiment_id} ({m.status or 'not registered'}): units "
                          f"{m.units}, chi-square p = {m.srm_p_value:.2g}" for m in mismatches)
    metadata = {"experiments_with_mismatch": len(mismatches), "live": len(live)}
    if live:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata,
            description=f"Sample-ratio mismatch in a live experiment: {described}. Its results "
            "are invalid. Find why one variant loses units (assignment, redirects, tracking), "
            "and set its status to stopped in dbt_project/seeds/experiments.csv until it is "
            "fixed; then run again.")
    if mismatches:
        return dg.AssetCheckResult(
            passed=True, metadata=metadata,
            description=f"No live experiment has a sample-ratio mismatch. Stopped or concluded "
            f"with one (results invalid): {described}.")
    return dg.AssetCheckResult(passed=True, metadata=metadata,
                               description="No experiment has a sample-ratio mismatch.")


@dg.asset_check(
    asset=RESULTS_KEY, blocking=True,
    description="Sample-ratio mismatch (chi-square p < 0.001 against the planned allocation): "
    "blocks the exports and reports while an affected experiment is still running.",
)
def experiment_sample_ratio(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return sample_ratio_result(sample_ratio_mismatches(pipeline_settings(warehouse).warehouse))
