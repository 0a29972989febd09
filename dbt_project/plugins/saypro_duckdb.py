"""dbt-duckdb plugin: the dbt build's DuckDB gets the pipeline's settings from the one place
that holds them (`ingestion.settings`: environment and `.env`): the memory cap and threads of
every pipeline connection (`ingestion.connection`), and the local time zone as the session's.
Insertion order is not preserved: a model's table is written in whatever order its query's
threads finish, which lets DuckDB stream a large result to disk instead of holding it in memory
to restore the input's order. No model ends in ORDER BY, and every reader orders what it shows.

They are read each time dbt opens the warehouse, not when the plugin loads: in the Dagster
process dbt-duckdb keeps its environment (and this plugin) between steps, and orchestration
sets each step's variables just before it (orchestration/defs/dbt.py).
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from ingestion.connection import apply_limits
from ingestion.settings import Settings


class Plugin(BasePlugin):
    settings: Settings

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        self.settings = Settings.from_env()
        apply_limits(conn, self.settings.duckdb)
        conn.execute("SET preserve_insertion_order = false")

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        # The time zone is a setting of each connection, and dbt runs models on cursors (each
        # opened after `configure_connection`).
        cursor.execute("SET TimeZone = ?", [self.settings.timezone])
