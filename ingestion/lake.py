"""The raw layer as a Parquet lake under SAYPRO_LAKE_URI (DESIGN.md section 3).

Layout (shared with the Spark engine, keep it exactly):

    <lake>/raw/<source>__<entity>/load_month=YYYY-MM/part-<uuid>.parquet
    <lake>/raw/_landing_files/data.parquet      (and _unkeyed_records, _unreadable_records,
                                                 _source_status: one file each)

`load_month` is the month of `loaded_at` in SAYPRO_TIMEZONE (a hive partition column, not
stored in the files); `record` is a JSON string column; the other columns are those of the raw
tables (`ingestion.raw.RAW_COLUMNS`).

The lake follows the raw tables, it is never the source of truth: `sync_raw_table` compares a
fingerprint of each month in the table with the same month in the lake and rewrites only the
months that differ, and removes months the table no longer has. A rebuild that changes nothing
writes nothing; an incremental merge rewrites the months it touched (its loads' month, and the
months whose records it replaced with newer versions). A month is written by one streaming
DuckDB `COPY ... PARTITION_BY` into a staging folder, then swapped in (its old folder deleted,
the new one moved in its place), so a killed run leaves a month missing or stale, never twice:
the next sync sees its fingerprint differ and writes it again.

The same code serves a local folder and an object store: DuckDB writes and reads through its
file systems (httpfs for `s3://`), and pyarrow's file systems delete and move.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
from pyarrow import fs as pafs

from ingestion.connection import connect
from ingestion.raw import sql_literal
from ingestion.settings import Settings

LAKE_VARIABLE = "SAYPRO_LAKE_URI"

SIDE_TABLES = ("_landing_files", "_unkeyed_records", "_unreadable_records", "_source_status")
"""Small raw tables written whole, one file each."""

PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 32768"
"""Row groups of 32k rows: a partitioned write buffers one per open month, so memory stays
bounded by months x 32k rows (raw records are under 2 kB) rather than DuckDB's 122k default."""

PARTITION_FLUSH_ROWS = 65_536
"""Rows a DuckDB thread buffers per partition before writing them (DuckDB's default: 524,288).
With the default, the scale-100 Matomo visits (6.3M rows of about 1 kB of JSON text) needed
3.1 GiB and failed under a 1GB memory cap; two row groups per flush write the same files in
1.1 to 1.4 GiB, faster (benchmarks/README.md, "The lake's partitioned write")."""

FINGERPRINT = ("count(*) AS rows, "
               "sum(hash(record_key, landing_file, record_index, loaded_at))::HUGEINT AS hashed")
"""What identifies a month's content: its rows' versions (landing files never change once
landed, so a row is its key, file, position and load time)."""


class LakeError(RuntimeError):
    """The lake cannot be written; the message names SAYPRO_LAKE_URI and the fix."""


@dataclass(frozen=True)
class Lake:
    uri: str
    """An absolute local folder, or an object-store URI such as `s3://bucket/prefix`."""
    timezone: str
    """SAYPRO_TIMEZONE: the months of `load_month`."""

    @classmethod
    def of(cls, settings: Settings) -> Lake:
        """The lake of SAYPRO_LAKE_URI (`settings.lake_uri`)."""
        return cls(settings.lake_uri, settings.timezone)

    @property
    def remote(self) -> bool:
        return "://" in self.uri and not self.uri.startswith("file://")

    def path(self, *parts: str) -> str:
        """A location under the lake, as DuckDB names it."""
        return "/".join([self.uri.rstrip("/"), *parts])

    def table_path(self, source: str, entity: str) -> str:
        return self.path("raw", f"{source}__{entity}")

    def filesystem(self) -> tuple[pafs.FileSystem, str]:
        """pyarrow's file system of the lake and the lake's path in it."""
        if not self.remote:
            return pafs.LocalFileSystem(), self.uri.removeprefix("file://")
        return pafs.FileSystem.from_uri(self.uri)

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Let `con` reach the lake: DuckDB's httpfs for an object store, with credentials
        from the usual chain (environment, ~/.aws, instance role) for `s3://`."""
        if not self.remote:
            return
        con.execute("LOAD httpfs")
        if self.uri.startswith(("s3://", "s3a://")):
            con.execute("CREATE OR REPLACE SECRET saypro_lake "
                        "(TYPE s3, PROVIDER credential_chain)")


def check_lake(lake: Lake) -> None:
    """Fail at start, before anything is pulled or built, when the lake cannot be written."""
    name = f"_probe-{uuid.uuid4()}.parquet"
    try:
        if not lake.remote:
            Path(lake.filesystem()[1]).mkdir(parents=True, exist_ok=True)
        with connect() as con:
            lake.prepare(con)
            con.execute(f"COPY (SELECT 1 AS ok) TO {sql_literal(lake.path(name))} "
                        "(FORMAT parquet)")
        fs, root = lake.filesystem()
        fs.delete_file(f"{root.rstrip('/')}/{name}")
    except (duckdb.Error, OSError) as exc:
        reason = " ".join(str(exc).split())[:300]
        fix = ("install DuckDB's httpfs and aws extensions (`INSTALL httpfs; INSTALL aws` with "
               "network access) and provide credentials (AWS_ACCESS_KEY_ID, ~/.aws or an "
               "instance role)" if lake.remote else
               "point it at a folder this user can create and write")
        raise LakeError(f"{LAKE_VARIABLE}={lake.uri} cannot be written ({reason}): {fix}, or "
                        f"unset it to use the default $SAYPRO_DATA_DIR/lake.") from exc


@dataclass(frozen=True)
class LakeSync:
    table: str
    rewritten: tuple[str, ...]
    """Months written again (their content changed, or was missing from the lake)."""
    removed: tuple[str, ...]
    """Months the table no longer has, deleted from the lake."""


def _month_sql(lake: Lake) -> str:
    return f"strftime(timezone({sql_literal(lake.timezone)}, loaded_at), '%Y-%m')"


def _lake_fingerprints(con: duckdb.DuckDBPyConnection, folder: str) -> dict[str, tuple]:
    files = f"{folder}/load_month=*/*.parquet"
    if not con.execute("SELECT count(*) FROM glob(?)", [files]).fetchone()[0]:
        return {}
    return {month: (rows, hashed) for month, rows, hashed in con.execute(f"""
        SELECT load_month, {FINGERPRINT}
        FROM read_parquet({sql_literal(files)}, hive_partitioning = true,
                          hive_types = {{'load_month': VARCHAR}})
        GROUP BY load_month""").fetchall()}


def sync_raw_table(con: duckdb.DuckDBPyConnection, lake: Lake, source: str,
                   entity: str) -> LakeSync:
    """Bring `<lake>/raw/<source>__<entity>` in line with `raw.<source>__<entity>`."""
    lake.prepare(con)
    table = f"raw.{source}__{entity}"
    folder = lake.table_path(source, entity)
    month = _month_sql(lake)
    in_table = {m: (rows, hashed) for m, rows, hashed in con.execute(
        f"SELECT {month} AS m, {FINGERPRINT} FROM {table} GROUP BY m").fetchall()}
    in_lake = _lake_fingerprints(con, folder)
    stale = tuple(sorted(m for m, fingerprint in in_table.items()
                         if in_lake.get(m) != fingerprint))
    gone = tuple(sorted(set(in_lake) - set(in_table)))
    fs, root = lake.filesystem()
    table_dir = f"{root.rstrip('/')}/raw/{source}__{entity}"
    staging_dir = f"{root.rstrip('/')}/_staging/raw/{source}__{entity}"
    _remove(fs, staging_dir)  # what a killed sync left
    fs.create_dir(staging_dir.rsplit("/", 1)[0])
    if stale:
        con.execute(f"SET partitioned_write_flush_threshold = {PARTITION_FLUSH_ROWS}")
        # the month is computed once per row: filtering on the expression again took the
        # write from 5 s to 16 s for the scale-10 Matomo visits
        con.execute(f"""
            COPY (SELECT * FROM (SELECT * REPLACE (record::VARCHAR AS record),
                                        {month} AS load_month FROM {table})
                  WHERE list_contains(?, load_month))
            TO {sql_literal(lake.path("_staging", "raw", f"{source}__{entity}"))}
            ({PARQUET_OPTIONS}, PARTITION_BY (load_month), FILENAME_PATTERN 'part-{{uuid}}')
        """, [list(stale)])
    for m in stale:
        _replace_dir(fs, f"{staging_dir}/load_month={m}", f"{table_dir}/load_month={m}")
    for m in gone:
        _remove(fs, f"{table_dir}/load_month={m}")
    _remove(fs, staging_dir)
    return LakeSync(table, stale, gone)


def sync_side_tables(con: duckdb.DuckDBPyConnection, lake: Lake) -> list[str]:
    """Write the raw schema's small tables whole (those that exist); return their names."""
    lake.prepare(con)
    fs, root = lake.filesystem()
    fs.create_dir(f"{root.rstrip('/')}/_staging/raw")
    written = []
    for name in SIDE_TABLES:
        if not con.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_schema = 'raw' AND table_name = ?",
                           [name]).fetchone()[0]:
            continue
        staged = lake.path("_staging", "raw", f"{name}.parquet")
        json_columns = [c for c, t in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = ? AND data_type = 'JSON'",
            [name]).fetchall()]
        as_text = (f" REPLACE ({', '.join(f'{c}::VARCHAR AS {c}' for c in json_columns)})"
                   if json_columns else "")
        con.execute(f"COPY (SELECT *{as_text} FROM raw.{name}) TO {sql_literal(staged)} "
                    f"({PARQUET_OPTIONS})")
        target = f"{root.rstrip('/')}/raw/{name}"
        fs.create_dir(target)
        fs.move(f"{root.rstrip('/')}/_staging/raw/{name}.parquet", f"{target}/data.parquet")
        written.append(name)
    return written


def sync_warehouse(warehouse: Path, lake: Lake,
                   entities: Iterable[tuple[str, str]]) -> list[LakeSync]:
    """Bring the lake in line with the warehouse's raw tables `entities` and side tables."""
    with connect(warehouse) as con:
        return sync_tables(con, lake, entities)


def sync_tables(con: duckdb.DuckDBPyConnection, lake: Lake,
                entities: Iterable[tuple[str, str]]) -> list[LakeSync]:
    """`sync_warehouse` on an open connection to the warehouse."""
    synced = [sync_raw_table(con, lake, source, entity) for source, entity in entities]
    sync_side_tables(con, lake)
    return synced


def _replace_dir(fs: pafs.FileSystem, staged: str, target: str) -> None:
    """Put the files of folder `staged` in place of folder `target`: delete, then move (a
    rename on a local disk; file by file on an object store, which has no folders to rename).
    Deleting first means an interruption can lose the month, which the next sync rewrites,
    but never leaves it twice."""
    if isinstance(fs, pafs.LocalFileSystem):
        _remove(fs, target)
        fs.create_dir(target.rsplit("/", 1)[0])
        fs.move(staged, target)
        return
    fs.delete_dir_contents(target, missing_dir_ok=True)
    for info in fs.get_file_info(pafs.FileSelector(staged)):
        fs.move(info.path, f"{target}/{info.base_name}")


def _remove(fs: pafs.FileSystem, folder: str) -> None:
    """Delete `folder` and what it holds, if it exists."""
    if fs.get_file_info(folder).type != pafs.FileType.NotFound:
        fs.delete_dir(folder)
