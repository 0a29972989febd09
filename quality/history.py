"""Quality tables in the warehouse: quarantine, validated loads and validation history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from quality.results import EntityValidation

DDL = [
    "CREATE SCHEMA IF NOT EXISTS quality",
    # Same columns as dbt's on-run-start (dbt_project.yml): whoever runs first creates it.
    """CREATE TABLE IF NOT EXISTS quality.quarantine (
        source VARCHAR, entity VARCHAR, record_key VARCHAR, load_id VARCHAR,
        landing_file VARCHAR, rule VARCHAR, reason VARCHAR, quarantined_at TIMESTAMPTZ,
        run_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS quality.validated_loads (
        source VARCHAR, entity VARCHAR, load_id VARCHAR, run_id VARCHAR,
        validated_at TIMESTAMPTZ, row_count BIGINT)""",
    """CREATE TABLE IF NOT EXISTS quality.validation_runs (
        run_id VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, entities INTEGER,
        rows_checked BIGINT, rows_quarantined BIGINT, passed BOOLEAN, rows_set_aside BIGINT)""",
    """CREATE TABLE IF NOT EXISTS quality.validation_results (
        run_id VARCHAR, source VARCHAR, entity VARCHAR, expectation VARCHAR,
        column_name VARCHAR, severity VARCHAR, success BOOLEAN, unexpected_count BIGINT,
        unexpected_percent DOUBLE, examples JSON, validated_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS quality.validation_entities (
        run_id VARCHAR, source VARCHAR, entity VARCHAR, started_at TIMESTAMPTZ,
        validated_at TIMESTAMPTZ, load_ids JSON, rows_checked BIGINT, rows_quarantined BIGINT,
        passed BOOLEAN, blocking_failures JSON, warnings JSON, rows_set_aside BIGINT)""",
]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `quality` schema and its tables if missing."""
    for stmt in DDL:
        con.execute(stmt)
    # Tables from an older layout may lack the later columns.
    present = set(con.execute("SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE table_schema = 'quality'").fetchall())
    for table, column in (("validated_loads", "row_count"), ("validation_runs", "rows_set_aside"),
                          ("validation_entities", "rows_set_aside")):
        if (table, column) not in present:
            con.execute(f"ALTER TABLE quality.{table} ADD COLUMN {column} BIGINT")


def recent_load_counts(con: duckdb.DuckDBPyConnection, source: str, entity: str,
                       exclude: Sequence[str], limit: int) -> list[int]:
    """Row counts of the last `limit` validated loads of an entity (newest first)."""
    rows = con.execute(
        """SELECT row_count FROM quality.validated_loads
           WHERE source = ? AND entity = ? AND row_count IS NOT NULL
             AND NOT list_contains(?, load_id)
           ORDER BY validated_at DESC, load_id DESC LIMIT ?""",
        [source, entity, list(exclude), limit]).fetchall()
    return [int(r[0]) for r in rows]


def mark_loads_validated(con: duckdb.DuckDBPyConnection, source: str, entity: str,
                         load_counts: dict[str, int | None], run_id: str, at: datetime) -> None:
    """Record loads as validated (re-validation replaces the earlier entry); a load none of
    whose records reached the raw table has no row count."""
    if not load_counts:
        return
    con.execute("DELETE FROM quality.validated_loads WHERE source = ? AND entity = ? "
                "AND list_contains(?, load_id)", [source, entity, list(load_counts)])
    con.executemany(
        "INSERT INTO quality.validated_loads VALUES (?, ?, ?, ?, ?, ?)",
        [[source, entity, lid, run_id, at, n] for lid, n in load_counts.items()])


def write_results(con: duckdb.DuckDBPyConnection, res: EntityValidation, started_at: datetime,
                  validated_at: datetime) -> None:
    """Write one entity's outcome (idempotent per run, source and entity) and the run row."""
    key = [res.run_id, res.source, res.entity]
    con.execute("DELETE FROM quality.validation_results "
                "WHERE run_id = ? AND source = ? AND entity = ?", key)
    con.execute("DELETE FROM quality.validation_entities "
                "WHERE run_id = ? AND source = ? AND entity = ?", key)
    rows: list[list[Any]] = [
        [*key, e["name"], e["column"], e["severity"], e["success"], e["unexpected_count"],
         e["unexpected_percent"], json.dumps(e["examples"], default=str), validated_at]
        for e in res.expectations
    ]
    if rows:
        con.executemany(
            "INSERT INTO quality.validation_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows)
    con.execute(
        "INSERT INTO quality.validation_entities BY NAME SELECT ? AS run_id, ? AS source, "
        "? AS entity, ? AS started_at, ? AS validated_at, ? AS load_ids, ? AS rows_checked, "
        "? AS rows_quarantined, ? AS passed, ? AS blocking_failures, ? AS warnings, "
        "? AS rows_set_aside",
        [*key, started_at, validated_at, json.dumps(res.load_ids), res.rows_checked,
         res.rows_quarantined, res.passed, json.dumps(res.blocking_failures),
         json.dumps(res.warnings), res.rows_set_aside])
    refresh_run(con, res.run_id)


def refresh_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """(Re)compute the `validation_runs` row of a run from its entity outcomes."""
    con.execute("DELETE FROM quality.validation_runs WHERE run_id = ?", [run_id])
    con.execute(
        """INSERT INTO quality.validation_runs BY NAME
           SELECT run_id, min(started_at) AS started_at, max(validated_at) AS finished_at,
                  count(*)::INTEGER AS entities, sum(rows_checked) AS rows_checked,
                  sum(rows_quarantined) AS rows_quarantined, bool_and(passed) AS passed,
                  sum(coalesce(rows_set_aside, 0)) AS rows_set_aside
           FROM quality.validation_entities WHERE run_id = ? GROUP BY run_id""",
        [run_id])
