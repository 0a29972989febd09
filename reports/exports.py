"""Parquet exports of every mart for BI tools (Power BI, Superset, Metabase, Evidence)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ingestion.connection import connect
from ingestion.settings import DuckDBLimits

# Beside the marts, for the dashboard (dashboard/): the seeds it labels and follows up with, and
# the quality history as counts only (quarantined rows' keys and reasons, and the failures'
# example values, may hold personal data and stay in the warehouse). Path under the exports
# folder -> (schema.table it needs, query).
EXTRA_EXPORTS: dict[str, tuple[str, str]] = {
    "reference/kpi_catalog": ("raw.kpi_catalog", "SELECT * FROM raw.kpi_catalog"),
    "reference/corrective_actions": (
        "raw.corrective_actions", "SELECT * FROM raw.corrective_actions"),
    "reference/experiments": ("raw.experiments", "SELECT * FROM raw.experiments"),
    "quality/validation_runs": ("quality.validation_runs", "SELECT * FROM quality.validation_runs"),
    "quality/validation_entities": (
        "quality.validation_entities",
        "SELECT run_id, source, entity, started_at, validated_at, rows_checked, "
        "rows_quarantined, passed, json_array_length(blocking_failures) AS blocking_failures, "
        "json_array_length(warnings) AS warnings FROM quality.validation_entities"),
    "quality/quarantine_summary": (
        "quality.quarantine",
        "SELECT source, entity, rule, run_id, count(*) AS quarantined_rows, "
        "min(quarantined_at) AS first_quarantined_at, max(quarantined_at) AS "
        "last_quarantined_at FROM quality.quarantine GROUP BY ALL"),
}


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    """COPY to a temporary name, then rename, so readers never see a half-written file."""
    temporary = target.with_name(f".{target.name}.tmp")
    con.execute(f"COPY ({query}) TO '{temporary}' (FORMAT parquet)")
    os.replace(temporary, target)


def export_marts(warehouse: Path, out_dir: Path,
                 limits: DuckDBLimits | None = None) -> dict[str, int]:
    """Write `out_dir/<mart>.parquet` for every table and view of schema `marts`, and the
    EXTRA_EXPORTS that exist to `<out_dir>/../<path>.parquet`; returns the marts' row counts.
    DuckDB works within `limits` (default: the settings')."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with connect(warehouse, limits=limits) as con:
        marts = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "ORDER BY 1").fetchall()]
        for mart in marts:
            _copy(con, f"SELECT * FROM marts.{mart}", out_dir / f"{mart}.parquet")
            counts[mart] = con.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0]
        tables = {r[0] for r in con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()}
        for path, (table, query) in EXTRA_EXPORTS.items():
            if table in tables:
                target = out_dir.parent / f"{path}.parquet"
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy(con, query, target)
    return counts
