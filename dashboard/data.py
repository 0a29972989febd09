"""The exports as the dashboard's only input: where they are, and cached DuckDB queries over them.

SQL names an export as `{marts/kpi_values}` (folder under `exports/`, file stem); the query
reads it with `read_parquet` on an in-memory DuckDB connection. Results are cached per query,
parameters and the files' (mtime, size), so a new pipeline run shows at the next rerun.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from ingestion.connection import connect
from ingestion.settings import Settings

_EXPORT = re.compile(r"\{((?:marts|reference|quality)/\w+)\}")
_lock = threading.Lock()
_connection: duckdb.DuckDBPyConnection | None = None


class MissingExportError(LookupError):
    """Exports a page needs are not there (no pipeline run yet, or an older one)."""

    def __init__(self, root: Path, names: Sequence[str]) -> None:
        self.root = root
        self.names = list(names)
        super().__init__(f"missing in {root}: {', '.join(self.names)}")


@dataclass(frozen=True)
class Exports:
    """The exports folder, `$SAYPRO_DATA_DIR/exports` by default."""

    root: Path

    @classmethod
    def from_env(cls) -> Exports:
        return cls(Settings.from_env().exports_dir.parent)

    def path(self, name: str) -> Path:
        return self.root / f"{name}.parquet"

    def missing(self, *names: str) -> list[str]:
        return [name for name in names if not self.path(name).is_file()]

    def has(self, *names: str) -> bool:
        return not self.missing(*names)

    def modified_at(self, name: str) -> pd.Timestamp | None:
        """When the export was last written (UTC), or None when it is missing."""
        try:
            return pd.Timestamp(self.path(name).stat().st_mtime, unit="s", tz="UTC")
        except FileNotFoundError:
            return None

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """Run `sql` with its `{folder/name}` exports; MissingExportError when one is absent."""
        names = sorted(set(_EXPORT.findall(sql)))
        missing = self.missing(*names)
        if missing:
            raise MissingExportError(self.root, missing)
        signature = []
        for name in names:
            stat = self.path(name).stat()
            signature.append((name, stat.st_mtime_ns, stat.st_size))
        resolved = _EXPORT.sub(lambda m: f"read_parquet({_literal(self.path(m[1]))})", sql)
        return _cached_query(resolved, tuple(params), tuple(signature))


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached_query(sql: str, params: tuple[object, ...],
                  signature: tuple[tuple[str, int, int], ...]) -> pd.DataFrame:
    """`signature` is unused in the body: it is part of the cache key (the files' versions).
    Through Arrow: DuckDB's own DataFrame conversion warns on pandas 3."""
    table = _cursor().sql(sql, params=list(params) or None).to_arrow_table()
    return table.to_pandas(date_as_object=False)


def _cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on one in-memory database per process (one cursor per query: thread-safe)."""
    global _connection
    with _lock:
        if _connection is None:
            _connection = connect()
        return _connection.cursor()
