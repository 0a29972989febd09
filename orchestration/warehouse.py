"""Small read helpers on the DuckDB warehouse for asset metadata."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


def table_row_count(warehouse: Path, table: str) -> int:
    if not warehouse.exists():
        return 0
    with duckdb.connect(str(warehouse)) as con:
        schema, name = table.split(".")
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = ?", [schema, name]).fetchone()[0]
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if exists else 0


def table_preview(warehouse: Path, table: str, limit: int = 10) -> pd.DataFrame:
    with duckdb.connect(str(warehouse)) as con:
        return con.execute(f"SELECT * FROM {table} LIMIT {int(limit)}").df()
