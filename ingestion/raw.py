"""Build the `raw` schema of the warehouse from landing files, in DuckDB (no row-by-row Python).

`raw.<source>__<entity>` holds the latest landed version of each record (docs/ARCHITECTURE.md):
duplicates across pages or re-pulls collapse on the natural key, and a record that lands again
later replaces the earlier version. Nothing is dropped silently: records without a readable key
go to `raw._unkeyed_records`, lines, rows and document ends that cannot be read to
`raw._unreadable_records`, and unparseable or rejected payloads are listed in
`raw._landing_files` with their status.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import duckdb

from ingestion.connection import connect
from ingestion.payloads import UTF8, as_utf8
from ingestion.sources import ENTITIES

RAW_COLUMNS = """
    record_key VARCHAR, record JSON USING COMPRESSION zstd, source VARCHAR, entity VARCHAR,
    load_id VARCHAR, loaded_at TIMESTAMPTZ, landing_file VARCHAR, record_index INTEGER
"""
"""`record` is zstd-compressed rather than with DuckDB's default for strings: at scale 100 the
Matomo merge takes 54 s instead of 75 s and its table 0.6 GB instead of 1.7 GB, while staging
reads it back 3% slower."""


UNREADABLE_COLUMNS = """
    source VARCHAR, entity VARCHAR, load_id VARCHAR, loaded_at TIMESTAMPTZ,
    landing_file VARCHAR, original_name VARCHAR, line INTEGER, reason VARCHAR,
    text_prefix VARCHAR
"""
"""`raw._unreadable_records`: what a landed file holds that cannot be read as a record (a line
or CSV row, the damaged end of a `.json` document, a drop file rejected whole), with its line
(NULL when unknown) and the first 200 characters of its text."""


BATCH_BYTES = 32 * 2**20
BATCH_FILES = 256
"""Landing bytes, and files, parsed per statement when building a raw table."""


def table_name(source: str, entity: str) -> str:
    return f"raw.{source}__{entity}"


@dataclass(frozen=True)
class RawBuildResult:
    table: str
    rows: int
    files: int
    rejected_files: int
    unkeyed_records: int
    unreadable_records: int = 0
    unreadable_files: tuple[str, ...] = ()
    """Pages that landed as valid JSON but no longer parse (changed on disk since): their
    records are missing from the table until the files are restored and the table rebuilt."""


def sql_literal(value: str) -> str:
    """`value` as a SQL string literal (quotes doubled), for the places a statement cannot
    take a parameter: table-function file names, generated SQL."""
    return "'" + value.replace("'", "''") + "'"


def _sql_list(paths: Iterable[str]) -> str:
    return "[" + ", ".join(sql_literal(p) for p in paths) + "]"


def _stage_metas(con: duckdb.DuckDBPyConnection, landing_root: Path, source: str,
                 entity: str, load_ids: Iterable[str] | None) -> int:
    """Load the meta files of an entity into temp table `metas`; return how many."""
    folder = landing_root / source / entity
    if load_ids is None:
        meta_files = sorted(folder.glob("*/*.meta.json"))
    else:
        meta_files = sorted(p for lid in load_ids for p in (folder / lid).glob("*.meta.json"))
    con.execute("DROP TABLE IF EXISTS metas")
    if not meta_files:
        return 0
    con.execute(f"""
        CREATE TEMP TABLE metas AS
        SELECT json AS meta,
               replace(filename, '.meta.json', '') AS payload_path,
               json->>'$.format' AS fmt,
               coalesce(json->>'$.status', 'ok') AS status,
               json->>'$.records_path' AS records_path,
               coalesce(json->'$.extra', '{{}}'::JSON) AS extra,
               json->>'$.load_id' AS load_id,
               (json->>'$.loaded_at')::TIMESTAMPTZ AS loaded_at,
               json->>'$.original_name' AS original_name,
               coalesce(json->>'$.encoding', '{UTF8}') AS encoding,
               (json->>'$.readable.bytes')::BIGINT AS readable_bytes,
               json->>'$.readable.closing' AS closing,
               coalesce((json->>'$.bad_line_count')::INTEGER, 0) AS bad_line_count
        FROM read_json_objects({_sql_list(str(p) for p in meta_files)}, filename = true)
    """)
    return len(meta_files)


class Payload(NamedTuple):
    path: str
    fmt: str
    records_path: str | None  # where a .json payload's items are (see the landing metadata)
    read_path: str  # the payload, or a UTF-8 copy of its readable part (see `_readable_copy`)
    by_line: bool  # JSON lines read one by one (some do not parse), not with DuckDB's reader


def _payload_batches(con: duckdb.DuckDBPyConnection, scratch: Path,
                     all_by_line: bool) -> list[list[Payload]]:
    """The ok payloads in batches of about BATCH_BYTES and at most BATCH_FILES each, so a
    statement parses a bounded slice of the landing files however many there are."""
    batches: list[list[Payload]] = [[]]
    size = 0
    for path, fmt, records_path, nbytes, encoding, readable, closing, bad in con.execute(
            "SELECT payload_path, fmt, records_path, coalesce((meta->>'$.bytes')::BIGINT, 0), "
            "encoding, readable_bytes, closing, bad_line_count "
            "FROM metas WHERE status = 'ok' ORDER BY payload_path").fetchall():
        if batches[-1] and (size + nbytes > BATCH_BYTES or len(batches[-1]) == BATCH_FILES):
            batches.append([])
            size = 0
        read_path = path
        if encoding != UTF8 or readable is not None:
            read_path = _readable_copy(Path(path), scratch, encoding, readable, closing)
        by_line = fmt == "jsonl" and (bad > 0 or all_by_line)
        batches[-1].append(Payload(path, fmt, records_path, read_path, by_line))
        size += nbytes
    return [b for b in batches if b]


def _readable_copy(path: Path, scratch: Path, encoding: str, readable: int | None,
                   closing: str | None) -> str:
    """A UTF-8 copy of what can be read of a payload, for DuckDB's readers (which take UTF-8
    only): the text decoded as landing described it (`ingestion.payloads`), and for a `.json`
    document damaged at its end, its first `readable` bytes closed with `closing`. The
    landed payload itself stays as received."""
    text = as_utf8(path.read_bytes(), encoding)
    if readable is not None:
        text = text[:readable] + (closing or "").encode()
    fd, copy = tempfile.mkstemp(dir=scratch, suffix=path.suffix)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text)
    return copy


def _items_path(records_path: str | None) -> str:
    """The JSONPath of a page's items, constant per statement: DuckDB then takes them in one
    pass (taking the key, then its items, read the page twice; a path per row was slower)."""
    if records_path in (None, "$"):
        return "$[*]"
    if '"' in records_path or "\\" in records_path:
        raise ValueError(f"unsupported records_path in landing metadata: {records_path!r}")
    return f'$."{records_path}"[*]'


def _payload_of(column: str, batch: list[Payload]) -> str:
    """SQL mapping a file name read by DuckDB (`column`) back to its payload's path."""
    copies = [p for p in batch if p.read_path != p.path]
    if not copies:
        return column
    cases = " ".join(f"WHEN {sql_literal(p.read_path)} THEN {sql_literal(p.path)}"
                     for p in copies)
    return f"CASE {column} {cases} ELSE {column} END"


def _split_lines(con: duckdb.DuckDBPyConnection, batch: list[Payload]) -> None:
    """Temp table `split_lines`: every line of the batch's JSON-lines files read one by one,
    with its JSON (NULL when it does not parse), its position among the non-blank lines (as
    DuckDB's reader numbers them, so per-line keys still match) and the reason landing gave
    when it found the line unreadable (such a line is set aside even if DuckDB, which is more
    lenient than JSON, could read it)."""
    files = [p for p in batch if p.by_line]
    con.execute("DROP TABLE IF EXISTS split_lines")
    if not files:
        return
    split = "\nUNION ALL\n".join(f"""
        SELECT {sql_literal(p.path)} AS payload_path, line_no::INTEGER AS line_no, line,
               TRY_CAST(line AS JSON) AS item, blank,
               (count(*) FILTER (WHERE NOT blank) OVER (ORDER BY line_no))::INTEGER
                   AS record_index
        FROM (SELECT line, line_no, trim(line, ' ' || chr(9) || chr(13)) = '' AS blank
              FROM (SELECT unnest(lines) AS line, generate_subscripts(lines, 1) AS line_no
                    FROM (SELECT string_split(content, chr(10)) AS lines
                          FROM read_text({sql_literal(p.read_path)}))))""" for p in files)
    con.execute(f"""
        CREATE TEMP TABLE split_lines AS
        SELECT s.*, b.reason AS landing_reason
        FROM ({split}) s
        LEFT JOIN (SELECT payload_path, unnest(from_json(meta -> '$.bad_lines',
                              '[{{"line": "INTEGER", "reason": "VARCHAR"}}]'), recursive := true)
                   FROM metas
                   WHERE list_contains({_sql_list(p.path for p in files)}, payload_path)) b
            ON b.payload_path = s.payload_path AND b.line = s.line_no
        WHERE NOT s.blank
    """)


def _records_sql(batch: list[Payload], data_dir: Path) -> str:
    """SQL yielding (record, record_index, meta columns) for one batch of payloads."""
    prefix = str(data_dir).rstrip("/") + "/"
    parts: list[str] = []
    json_files: dict[str | None, list[Payload]] = {}
    for payload in (p for p in batch if p.fmt == "json"):
        json_files.setdefault(payload.records_path, []).append(payload)
    # Every ok page parsed when it landed, so the items are extracted without validating first
    # (each check is another full parse). A page changed on disk since then gives NULL items
    # through `try()`, and `_unreadable_pages` reports it: the batch's other pages still load.
    for records_path, files in json_files.items():
        document = "'[' || t.content || ']'" if records_path == "$" else "t.content"
        parts.append(f"""
            SELECT unnest(items) AS item, generate_subscripts(items, 1) AS record_index,
                   extra, load_id, loaded_at, payload_path
            FROM (SELECT m.*,
                         try(json_extract({document}, {sql_literal(_items_path(records_path))}))
                             AS items
                  FROM read_text({_sql_list(p.read_path for p in files)}) t
                  JOIN metas m ON m.payload_path = {_payload_of("t.filename", files)})
        """)
    # A line's position comes from `row_number() OVER ()` over that one file alone: DuckDB
    # keeps a single scan's order there, and only there (a partitioned window over several
    # files, or one after a join, numbers a large file's parallel chunks in any order).
    jsonl_files = [p for p in batch if p.fmt == "jsonl"]
    if jsonl_files:
        lines = "\nUNION ALL\n".join(f"""
            (SELECT json AS item, row_number() OVER ()::INTEGER AS record_index,
                    {sql_literal(p.path)} AS payload_path
             FROM read_json_objects({sql_literal(p.read_path)}, format = 'newline_delimited'))"""
                                     for p in jsonl_files if not p.by_line)
        if any(p.by_line for p in jsonl_files):
            lines += ("\nUNION ALL\n" if lines else "") + """
            (SELECT item, record_index, payload_path FROM split_lines
             WHERE item IS NOT NULL AND landing_reason IS NULL)"""
        # per-line keys (`record_extras`) are unnested once per file, not looked up per line
        parts.append(f"""
            WITH line_extras AS (
                SELECT payload_path, unnest(extras) AS line_extra,
                       generate_subscripts(extras, 1) AS record_index
                FROM (SELECT payload_path,
                             from_json(meta -> '$.record_extras', '["json"]') AS extras
                      FROM metas
                      WHERE list_contains({_sql_list(p.path for p in jsonl_files)},
                                          payload_path)
                        AND json_type(meta -> '$.record_extras') = 'ARRAY')
            )
            SELECT o.item, o.record_index,
                   coalesce(json_merge_patch(m.extra, e.line_extra), m.extra) AS extra,
                   m.load_id, m.loaded_at, m.payload_path
            FROM ({lines}) o
            JOIN metas m USING (payload_path)
            LEFT JOIN line_extras e USING (payload_path, record_index)
        """)
    # Rows DuckDB cannot read (a wrong number of fields) are skipped and kept in its
    # `reject_errors` table (`_unreadable_csv_rows`); the rows after one are numbered on.
    for payload in (p for p in batch if p.fmt == "csv"):
        parts.append(f"""
            SELECT c.item, c.record_index, m.extra, m.load_id, m.loaded_at, m.payload_path
            FROM (SELECT to_json(r) AS item, row_number() OVER ()::INTEGER AS record_index
                  FROM read_csv({sql_literal(payload.read_path)}, all_varchar = true,
                                header = true, store_rejects = true) r) c
            JOIN metas m ON m.payload_path = {sql_literal(payload.path)}
        """)
    union = "\nUNION ALL\n".join(f"({p})" for p in parts)
    return f"""
        SELECT CASE WHEN extra = '{{}}'::JSON THEN item
                    ELSE json_merge_patch(item, extra) END AS record,
               record_index, load_id, loaded_at,
               replace(payload_path, '{prefix}', '') AS landing_file
        FROM ({union})
    """


def build_entity(con: duckdb.DuckDBPyConnection, data_dir: Path, source: str, entity: str,
                 load_ids: Iterable[str] | None = None) -> RawBuildResult:
    """Rebuild (load_ids=None) or incrementally merge (given load ids) one raw table.

    One transaction: a run killed midway leaves the table and its `_landing_files` entries as
    they were, so the next merge picks the same loads up again (none is marked merged while
    its records are missing, none is merged twice). Landing checked each JSON-lines file, so
    DuckDB's reader takes the clean ones whole; should one still fail (a file changed on disk
    since), the build starts again reading every JSON-lines file line by line, and the lines
    that fail are set aside instead of failing the build."""
    load_ids = None if load_ids is None else list(load_ids)
    for all_by_line in (False, True):
        con.begin()
        try:
            result = _build_entity(con, data_dir, source, entity, load_ids, all_by_line)
        except duckdb.InvalidInputException:
            con.rollback()
            if all_by_line:
                raise
            continue
        except BaseException:
            con.rollback()
            raise
        con.commit()
        return result
    raise AssertionError("unreachable")


def _build_entity(con: duckdb.DuckDBPyConnection, data_dir: Path, source: str, entity: str,
                  load_ids: list[str] | None, all_by_line: bool) -> RawBuildResult:
    key_sql = ENTITIES[(source, entity)]
    table = table_name(source, entity)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("""CREATE TABLE IF NOT EXISTS raw._landing_files (
        source VARCHAR, entity VARCHAR, load_id VARCHAR, landing_file VARCHAR, status VARCHAR,
        checksum VARCHAR, record_count INTEGER, loaded_at TIMESTAMPTZ, meta JSON)""")
    con.execute(f"""CREATE TABLE IF NOT EXISTS raw._unkeyed_records ({RAW_COLUMNS})""")
    con.execute(f"CREATE TABLE IF NOT EXISTS raw._unreadable_records ({UNREADABLE_COLUMNS})")
    full = load_ids is None
    if full:
        con.execute(f"CREATE OR REPLACE TABLE {table} ({RAW_COLUMNS})")
        for aux in ("_landing_files", "_unkeyed_records", "_unreadable_records"):
            con.execute(f"DELETE FROM raw.{aux} WHERE source = ? AND entity = ?",
                        [source, entity])
    else:
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({RAW_COLUMNS})")
    files = _stage_metas(con, data_dir / "landing", source, entity, load_ids)
    if not files:
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return RawBuildResult(table, rows, 0, 0, 0)
    prefix = str(data_dir).rstrip("/") + "/"
    staged_loads = [r[0] for r in con.execute("SELECT DISTINCT load_id FROM metas").fetchall()]
    for aux in ("_landing_files", "_unreadable_records"):
        con.execute(f"DELETE FROM raw.{aux} "
                    "WHERE source = ? AND entity = ? AND list_contains(?, load_id)",
                    [source, entity, staged_loads])
    con.execute(f"""
        INSERT INTO raw._landing_files
        SELECT '{source}', '{entity}', load_id, replace(payload_path, '{prefix}', ''), status,
               meta->>'$.checksum', (meta->>'$.record_count')::INTEGER, loaded_at, meta
        FROM metas
    """)
    unreadable_rows = _unreadable_from_landing(con, source, entity, prefix)
    unkeyed = 0
    unreadable: tuple[str, ...] = ()
    with tempfile.TemporaryDirectory(prefix=".raw-build-", dir=data_dir) as scratch:
        batches = _payload_batches(con, Path(scratch), all_by_line)
        # Records go straight into the table, batch by batch (a statement parses a bounded
        # slice, so memory stays bounded). Keyless ones then move to `_unkeyed_records`, and
        # each key the new records repeat keeps only its newest version, chosen on the narrow
        # key columns: every record is written once, with no scratch copy.
        for batch in batches:
            _split_lines(con, batch)
            con.execute("DROP TABLE IF EXISTS reject_errors")
            con.execute("DROP TABLE IF EXISTS reject_scans")
            con.execute(f"""
                INSERT INTO {table}
                SELECT {key_sql} AS record_key, record, '{source}', '{entity}',
                       load_id, loaded_at, landing_file, record_index
                FROM ({_records_sql(batch, data_dir)})
            """)
            unreadable_rows += _unreadable_lines(con, batch, source, entity, prefix)
    if batches:
        new_rows = f"list_contains({_sql_list(staged_loads)}, load_id)"
        keyless = f"{new_rows} AND (record_key IS NULL OR record_key = '')"
        con.execute(
            "DELETE FROM raw._unkeyed_records WHERE source = ? AND entity = ? "
            "AND list_contains(?, load_id)", [source, entity, staged_loads])
        unkeyed = con.execute(f"INSERT INTO raw._unkeyed_records "
                              f"SELECT * FROM {table} WHERE {keyless}").fetchone()[0]
        if unkeyed:
            con.execute(f"DELETE FROM {table} WHERE {keyless}")
        unreadable = _unreadable_pages(con, table, source, entity, staged_loads)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE repeated_keys AS
            SELECT record_key FROM {table}
            WHERE record_key IN (SELECT record_key FROM {table} WHERE {new_rows})
            GROUP BY record_key HAVING count(*) > 1
        """)
        con.execute(f"""
            DELETE FROM {table} WHERE rowid IN (
                SELECT rowid FROM (
                    SELECT rowid, row_number() OVER (
                        PARTITION BY record_key
                        ORDER BY loaded_at DESC, landing_file DESC, record_index DESC) AS newness
                    FROM {table} WHERE record_key IN (SELECT record_key FROM repeated_keys))
                WHERE newness > 1)
        """)
        con.execute("DROP TABLE repeated_keys")
    rejected = con.execute("SELECT count(*) FROM metas WHERE status <> 'ok'").fetchone()[0]
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return RawBuildResult(table, rows, files, rejected, unkeyed, unreadable_rows, unreadable)


def _unreadable_from_landing(con: duckdb.DuckDBPyConnection, source: str, entity: str,
                             prefix: str) -> int:
    """Into `raw._unreadable_records`: what landing found unreadable in files not read line by
    line here (a drop file rejected whole, the damaged end of a `.json` document)."""
    return con.execute(f"""
        INSERT INTO raw._unreadable_records
        SELECT '{source}', '{entity}', load_id, loaded_at, replace(payload_path, '{prefix}', ''),
               original_name, line, reason, text
        FROM (SELECT *, unnest(from_json(meta -> '$.bad_lines',
                  '[{{"line": "INTEGER", "reason": "VARCHAR", "text": "VARCHAR"}}]'),
                  recursive := true)
              FROM metas
              WHERE bad_line_count > 0 AND NOT (status = 'ok' AND fmt = 'jsonl'))
    """).fetchone()[0]


def _unreadable_lines(con: duckdb.DuckDBPyConnection, batch: list[Payload], source: str,
                      entity: str, prefix: str) -> int:
    """Into `raw._unreadable_records`: the batch's JSON lines that were set aside, and the CSV
    rows DuckDB could not read, each with its line and reason."""
    found = 0
    if any(p.by_line for p in batch):
        found += con.execute(f"""
            INSERT INTO raw._unreadable_records
            SELECT '{source}', '{entity}', m.load_id, m.loaded_at,
                   replace(s.payload_path, '{prefix}', ''), m.original_name, s.line_no,
                   coalesce(s.landing_reason, 'not valid JSON (the line does not parse '
                            || 'now: the file changed since it landed)'),
                   left(s.line, 200)
            FROM split_lines s JOIN metas m USING (payload_path)
            WHERE s.item IS NULL OR s.landing_reason IS NOT NULL
        """).fetchone()[0]
    csv_files = [p for p in batch if p.fmt == "csv"]
    if csv_files:
        found += con.execute(f"""
            INSERT INTO raw._unreadable_records
            SELECT '{source}', '{entity}', m.load_id, m.loaded_at,
                   replace(m.payload_path, '{prefix}', ''), m.original_name, e.line::INTEGER,
                   'CSV row not read (' || string_agg(DISTINCT e.error_message, '; ') || ')',
                   left(any_value(e.csv_line), 200)
            FROM reject_errors e
            JOIN reject_scans r USING (scan_id, file_id)
            JOIN metas m ON m.payload_path = {_payload_of("r.file_path", csv_files)}
            GROUP BY ALL
        """).fetchone()[0]
    return found


def _unreadable_pages(con: duckdb.DuckDBPyConnection, table: str, source: str, entity: str,
                      load_ids: list[str]) -> tuple[str, ...]:
    """The new loads' JSON pages that promised records but gave none (they no longer parse),
    marked `unreadable` in `raw._landing_files`. Checked before duplicates are reduced, while
    every record of the new loads is still in the table or in `_unkeyed_records`."""
    found = tuple(r[0] for r in con.execute(f"""
        SELECT landing_file FROM raw._landing_files
        WHERE source = $source AND entity = $entity AND list_contains($loads, load_id)
          AND status = 'ok' AND meta->>'$.format' = 'json' AND record_count > 0
          AND landing_file NOT IN (
              SELECT landing_file FROM {table} WHERE list_contains($loads, load_id)
              UNION ALL
              SELECT landing_file FROM raw._unkeyed_records
              WHERE source = $source AND entity = $entity AND list_contains($loads, load_id))
        ORDER BY landing_file
    """, {"source": source, "entity": entity, "loads": load_ids}).fetchall())
    if found:
        con.execute("UPDATE raw._landing_files SET status = 'unreadable' "
                    "WHERE source = ? AND entity = ? AND list_contains(?, landing_file)",
                    [source, entity, list(found)])
    return found


def rebuild_raw(warehouse: Path, data_dir: Path,
                entities: Iterable[tuple[str, str]] | None = None) -> list[RawBuildResult]:
    """Rebuild raw tables from landing only (all entities by default)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with connect(warehouse) as con:
        return [build_entity(con, data_dir, s, e) for s, e in (entities or ENTITIES)]


SOURCE_STATUS_TABLE = "raw._source_status"
"""One row per source: how its last pull ran (`api`, `drop` or `skipped` = not configured)."""


def record_source_status(con: duckdb.DuckDBPyConnection, source: str, mode: str) -> None:
    """Record how `source` was pulled just now, so marts and reports can tell a source that is
    not configured from one that is configured but quiet (DESIGN.md section 3)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(f"""CREATE TABLE IF NOT EXISTS {SOURCE_STATUS_TABLE} (
        source VARCHAR PRIMARY KEY, mode VARCHAR, checked_at TIMESTAMPTZ)""")
    con.execute(f"INSERT OR REPLACE INTO {SOURCE_STATUS_TABLE} VALUES (?, ?, now())",
                [source, mode])


def merge_loads(con: duckdb.DuckDBPyConnection, data_dir: Path, source: str, entity: str,
                load_ids: Iterable[str]) -> RawBuildResult:
    """Merge newly landed loads into an existing raw table (incremental runs), together with
    any earlier load that landed but was never merged (a run killed before its merge)."""
    landed = {p.name for p in (data_dir / "landing" / source / entity).glob("*") if p.is_dir()}
    known: set[str] = set()
    if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                   "'raw' AND table_name = '_landing_files'").fetchone()[0]:
        known = {r[0] for r in con.execute(
            "SELECT DISTINCT load_id FROM raw._landing_files WHERE source = ? AND entity = ?",
            [source, entity]).fetchall()}
    pending = sorted((landed - known) | set(load_ids))
    return build_entity(con, data_dir, source, entity, pending)
