"""Row counts for asset metadata (`orchestration/warehouse.py`)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.warehouse import table_row_counts


def test_row_counts_of_tables_present_absent_and_of_no_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    tables = ["raw.zendesk__tickets", "raw.matomo__visits", "quality.quarantine"]
    assert table_row_counts(warehouse, tables) == dict.fromkeys(tables, 0)
    assert not warehouse.exists()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.zendesk__tickets AS SELECT range AS id FROM range(3)")
        con.execute("CREATE TABLE raw.matomo__visits (id INTEGER)")
    assert table_row_counts(warehouse, tables) == {
        "raw.zendesk__tickets": 3, "raw.matomo__visits": 0, "quality.quarantine": 0}
