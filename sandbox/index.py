"""The sample's JSONL files indexed in an on-disk DuckDB file, so the emulators answer at any scale
in bounded memory.

Each record is kept as its original JSON text next to the columns the vendor APIs filter, sort
and page on; a page is a range query that returns those texts, joined into the response body
without parsing. The index is built once per sample (into a temporary file renamed into place, so
concurrent emulators never see half of it) and rebuilt when the sample's files change.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson

INDEX_NAME = ".sandbox-index.duckdb"
INDEX_VERSION = 1

# table -> (folder under the sample, SELECT list over `json` read from the files, sort keys).
# `doc` is the record as the vendor serves it; Moodle's join keys are dropped from it because
# the real endpoints return them implicitly (by the course or user asked for).
_TABLES: dict[str, tuple[str, str, str]] = {
    "zendesk_tickets": ("zendesk/tickets",
                        "json->>'updated_at' AS updated_at, (json->>'id')::BIGINT AS id, "
                        "json::VARCHAR AS doc", "updated_at, id"),
    "zendesk_users": ("zendesk/users",
                      "json->>'updated_at' AS updated_at, (json->>'id')::BIGINT AS id, "
                      "json::VARCHAR AS doc", "updated_at, id"),
    "zendesk_ticket_events": ("zendesk/ticket_events",
                              "(json->>'timestamp')::BIGINT AS ts, (json->>'id')::BIGINT AS id, "
                              "json::VARCHAR AS doc", "ts, id"),
    "zendesk_articles": ("zendesk/articles",
                         "(json->>'id')::BIGINT AS id, json::VARCHAR AS doc", "id"),
    "moodle_categories": ("moodle/categories", "ordinal, json::VARCHAR AS doc", "ordinal"),
    "moodle_courses": ("moodle/courses", "ordinal, json::VARCHAR AS doc", "ordinal"),
    "moodle_enrolments": ("moodle/enrolments",
                          "(json->>'courseid')::BIGINT AS courseid, ordinal, "
                          "json_merge_patch(json, '{\"courseid\": null}')::VARCHAR AS doc",
                          "courseid, ordinal"),
    "moodle_completions": ("moodle/completions",
                           "(json->>'courseid')::BIGINT AS courseid, "
                           "(json->>'userid')::BIGINT AS userid, "
                           "json_merge_patch(json, '{\"courseid\": null, \"userid\": null}')"
                           "::VARCHAR AS doc", "courseid, userid"),
    "moodle_grades": ("moodle/grades",
                      "(json->>'courseid')::BIGINT AS courseid, ordinal, json::VARCHAR AS doc",
                      "courseid, ordinal"),
    "kobo_registration": ("kobo/registration",
                          "(json->>'_id')::BIGINT AS id, json->>'_submission_time' AS submitted, "
                          "json::VARCHAR AS doc", "id"),
    "kobo_feedback": ("kobo/feedback",
                      "(json->>'_id')::BIGINT AS id, json->>'_submission_time' AS submitted, "
                      "json::VARCHAR AS doc", "id"),
}


def _fingerprint(data: Path) -> str:
    """Names, sizes and modification times of the indexed files: a change forces a rebuild."""
    parts: list[Any] = [INDEX_VERSION]
    for folder, _, _ in _TABLES.values():
        for path in sorted((data / folder).glob("*.jsonl")):
            stat = path.stat()
            parts.append([str(path.relative_to(data)), stat.st_size, stat.st_mtime_ns])
    return orjson.dumps(parts).decode()


def _build(data: Path, target: Path, fingerprint: str) -> None:
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    partial.unlink(missing_ok=True)
    con = duckdb.connect(str(partial), config={"memory_limit": "1GB", "threads": 2})
    try:
        for table, (folder, columns, order) in _TABLES.items():
            files = [str(f) for f in sorted((data / folder).glob("*.jsonl"))]
            # ordinal keeps the files' own order where the vendor has no sort key
            source = (f"SELECT json, row_number() OVER () AS ordinal "
                      f"FROM read_ndjson_objects({files!r})" if files else
                      "SELECT NULL::JSON AS json, 0::BIGINT AS ordinal WHERE false")
            con.execute(f"CREATE TABLE {table} AS SELECT {columns} FROM ({source}) "
                        f"ORDER BY {order}")
        con.execute("CREATE TABLE index_fingerprint AS SELECT ? AS fingerprint", [fingerprint])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(partial, target)


class SampleIndex:
    """Read-only queries over the indexed sample; safe to share between request threads."""

    def __init__(self, data: Path, path: Path | None = None) -> None:
        self.path = path or data / INDEX_NAME
        fingerprint = _fingerprint(data)
        if self._stored_fingerprint() != fingerprint:
            _build(data, self.path, fingerprint)
        self._con = duckdb.connect(str(self.path), read_only=True,
                                   config={"memory_limit": "512MB", "threads": 1})

    def _stored_fingerprint(self) -> str | None:
        if not self.path.exists():
            return None
        try:
            with duckdb.connect(str(self.path), read_only=True) as con:
                return con.execute("SELECT fingerprint FROM index_fingerprint").fetchone()[0]
        except duckdb.Error:
            return None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        cursor = self._con.cursor()  # one connection per request thread
        try:
            return cursor.execute(sql, list(params)).fetchall()
        finally:
            cursor.close()

    def docs(self, sql: str, params: Sequence[Any] = ()) -> list[bytes]:
        """The `doc` column (last in the select list) of each row, as UTF-8 bytes."""
        return [row[-1].encode() for row in self.rows(sql, params)]

    def count(self, table: str) -> int:
        return self.rows(f"SELECT count(*) FROM {table}")[0][0]

    def close(self) -> None:
        self._con.close()


def json_array(docs: list[bytes]) -> bytes:
    return b"[" + b",".join(docs) + b"]"
