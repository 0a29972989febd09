"""The one way the pipeline opens DuckDB: the warehouse (raw builds, validation, exports,
reports, orchestration's checks) or an in-memory database (the dashboard), with DuckDB's memory
and threads capped by the settings (`DuckDBLimits`), as the dbt build is (plugin
`dbt_project/plugins/saypro_duckdb.py`). Beyond the memory cap DuckDB spills to disk instead of
growing with the data."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.settings import DuckDBLimits

IN_MEMORY = ":memory:"


def apply_limits(con: duckdb.DuckDBPyConnection, limits: DuckDBLimits) -> None:
    """Set the memory cap and, when given, the threads: both are settings of the database, so
    they hold for every connection and cursor of it in this process."""
    con.execute("SET memory_limit = ?", [limits.memory_limit])
    if limits.threads is not None:
        con.execute("SET threads = ?", [limits.threads])


def connect(
    database: Path | str = IN_MEMORY, *, read_only: bool = False, limits: DuckDBLimits | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to `database` (a DuckDB file, or in memory) with `limits` applied; without
    them, the limits of the process's settings (environment and `.env`)."""
    limits = limits or DuckDBLimits.from_env()
    con = duckdb.connect(str(database), read_only=read_only)
    apply_limits(con, limits)
    return con
