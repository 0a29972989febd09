"""Small read helpers on the DuckDB warehouse for asset metadata."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pandas as pd

from ingestion.connection import connect


def table_row_counts(warehouse: Path, tables: Iterable[str]) -> dict[str, int]:
    """Rows of each `schema.table` (0 for a table not yet created), on one connection: opening
    the warehouse reads its whole catalog, 20 to 40 ms at every open."""
    tables = list(tables)
    if not warehouse.exists():
        return dict.fromkeys(tables, 0)
    with connect(warehouse) as con:
        existing = {f"{schema}.{name}" for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
        return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                if table in existing else 0 for table in tables}


def table_preview(warehouse: Path, table: str, limit: int = 10) -> pd.DataFrame:
    with connect(warehouse) as con:
        return con.execute(f"SELECT * FROM {table} LIMIT {int(limit)}").df()


def web_months_behind(warehouse: Path) -> list[date]:
    """Local months whose staged Matomo visits differ from `marts.fct_web_visits` (count or key
    hash): late visits of a month already built, or a whole history when Matomo is configured
    after its start. The monthly period models rebuild them with the partition's month."""
    if not warehouse.exists():
        return []
    with connect(warehouse, read_only=True) as con:
        tables = {r[0] for r in con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}
        if "staging.stg_matomo__visits" not in tables:
            return []
        per_month = ("SELECT visit_month, count(*) AS n, sum(hash(visit_id)) AS h FROM {} "
                     "WHERE visit_month IS NOT NULL GROUP BY visit_month")
        built = (per_month.format("marts.fct_web_visits")
                 if "marts.fct_web_visits" in tables
                 else "SELECT NULL::DATE AS visit_month, 0 AS n, 0 AS h WHERE false")
        return [r[0] for r in con.execute(f"""
            SELECT visit_month
            FROM ({per_month.format('staging.stg_matomo__visits')}) AS staged
            FULL JOIN ({built}) AS built USING (visit_month)
            WHERE staged.n IS DISTINCT FROM built.n OR staged.h IS DISTINCT FROM built.h
            ORDER BY visit_month""").fetchall()]


def source_modes(warehouse: Path) -> dict[str, str]:
    """How each source was last pulled (`api`, `drop`, `skipped`), from `raw._source_status`."""
    if not warehouse.exists():
        return {}
    with connect(warehouse, read_only=True) as con:
        if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' "
                           "AND table_name = '_source_status'").fetchone()[0]:
            return {}
        return dict(con.execute("SELECT source, mode FROM raw._source_status "
                                "ORDER BY source").fetchall())


def sources_summary(warehouse: Path) -> str:
    """One line for the end of a run: the sources read, and those not configured."""
    modes = source_modes(warehouse)
    read = [f"{s} ({m})" for s, m in modes.items() if m != "skipped"]
    skipped = [s for s, m in modes.items() if m == "skipped"]
    line = "Sources: " + (", ".join(read) or "none configured")
    if skipped:
        line += f"; not configured: {', '.join(skipped)} (their KPIs are left out)"
    return line


def set_aside_counts(warehouse: Path) -> dict[str, dict[str, int]]:
    """Per source, the records kept out of staging now: `quarantined` (a row rule failed on
    the version in the raw table), `unreadable` (raw._unreadable_records: lines or parts of
    landed files) and `unkeyed` (raw._unkeyed_records). Sources with none are left out."""
    if not warehouse.exists():
        return {}
    from ingestion.raw import table_name
    from ingestion.sources import ENTITIES

    with connect(warehouse, read_only=True) as con:
        tables = {r[0] for r in con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}
        parts = [f"SELECT source, '{kind}' AS kind, count(*) AS n FROM {table} GROUP BY source"
                 for kind, table in (("unreadable", "raw._unreadable_records"),
                                     ("unkeyed", "raw._unkeyed_records")) if table in tables]
        if "quality.quarantine" in tables:
            parts += [f"""
                SELECT '{source}', 'quarantined', count(DISTINCT q.record_key)
                FROM quality.quarantine q JOIN {table_name(source, entity)} r
                  ON r.record_key = q.record_key AND r.load_id = q.load_id
                WHERE q.source = '{source}' AND q.entity = '{entity}'"""
                      for source, entity in ENTITIES if table_name(source, entity) in tables]
        if not parts:
            return {}
        counts: dict[str, dict[str, int]] = {}
        for source, kind, n in con.execute(" UNION ALL ".join(parts)).fetchall():
            if n:
                row = counts.setdefault(source, {"quarantined": 0, "unreadable": 0,
                                                 "unkeyed": 0})
                row[kind] += n
    return dict(sorted(counts.items()))


def set_aside_summary(warehouse: Path) -> str:
    """Lines for the end of a run: what each source has kept out of the marts, and where the
    records are listed."""
    counts = set_aside_counts(warehouse)
    if not counts:
        return "Set aside: nothing; every landed record reached staging."
    lines = ["Set aside (kept out of the marts; each listed with its reason in "
             "quality.quarantine, and per run in quality/validation_<run_id>.html):"]
    for source, c in counts.items():
        lines.append(f"  {source}: {c['quarantined']} quarantined by a rule, {c['unreadable']} "
                     f"unreadable (raw._unreadable_records: file, line, reason), "
                     f"{c['unkeyed']} without a key (raw._unkeyed_records)")
    return "\n".join(lines)
