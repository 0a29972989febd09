"""Parquet exports of every mart for BI tools (Power BI, Superset, Metabase, Evidence)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


def export_marts(warehouse: Path, out_dir: Path) -> dict[str, int]:
    """Write `out_dir/<mart>.parquet` for every table and view of schema `marts`; each file is
    written under a temporary name and renamed, so readers never see a half-written file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse)) as con:
        marts = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "ORDER BY 1").fetchall()]
        for mart in marts:
            target = out_dir / f"{mart}.parquet"
            temporary = out_dir / f".{mart}.parquet.tmp"
            con.execute(f"COPY marts.{mart} TO '{temporary}' (FORMAT parquet)")
            os.replace(temporary, target)
            counts[mart] = con.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0]
    return counts
