"""Benchmark: validation time per million rows for Zendesk tickets and Matomo visits.

Synthetic raw rows are generated in DuckDB (about 0.5% of them bad, to exercise the
quarantine path), then `validate_entity` runs on them. Not a test.

    .venv/bin/python -m quality.bench_validate --rows 200000 [--chunk-rows 200000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.raw import RAW_COLUMNS
from quality.validate import validate_entity

TICKETS_SQL = """
SELECT i::VARCHAR AS record_key, json_object(
    'id', i,
    'created_at', strftime(TIMESTAMP '2025-01-01' + to_seconds(i * 7 % 30000000),
                           '%Y-%m-%dT%H:%M:%SZ'),
    'updated_at', strftime(TIMESTAMP '2025-01-01' + to_seconds(i * 7 % 30000000 + 3600),
                           '%Y-%m-%dT%H:%M:%SZ'),
    'status', CASE WHEN i % 200 = 0 THEN 'reslved'
                   ELSE ['new', 'open', 'pending', 'hold', 'solved', 'closed'][1 + i % 6] END,
    'priority', ['urgent', 'high', 'normal', 'low', NULL][1 + i % 5],
    'type', 'question', 'via', json_object('channel', 'web'),
    'requester_id', 100000 + i % 5000, 'assignee_id', 900 + i % 7, 'group_id', 3,
    'subject', 'Ticket ' || i, 'tags', ['billing', 'payment_failed'],
    'satisfaction_rating', json_object('score', ['good', 'bad', 'offered'][1 + i % 3])
) AS record
FROM range(?) t(i)
"""

VISITS_SQL = """
SELECT i::VARCHAR AS record_key, json_object(
    'idVisit', i, 'visitorId', printf('%016x', i % 100000),
    'userId', CASE WHEN i % 3 = 0 THEN 'P' || (i % 5000) END,
    'visitorType', CASE WHEN i % 250 = 0 THEN 'old' ELSE ['new', 'returning'][1 + i % 2] END,
    'referrerType', ['direct', 'search', 'website', 'campaign', 'social'][1 + i % 5],
    'referrerName', '', 'deviceType', 'Desktop', 'visitDuration', i % 600,
    'actions', 2, 'firstActionTimestamp', 1735689600 + i % 30000000,
    'lastActionTimestamp', 1735689600 + i % 30000000 + i % 600,
    'actionDetails', [json_object('type', 'action', 'url', 'https://saypro.online/a',
                                  'timestamp', 1735689600),
                      json_object('type', 'event', 'eventCategory', 'classified_ad',
                                  'eventAction', 'view', 'timestamp', 1735689601)]
) AS record
FROM range(?) t(i)
"""


def _build(warehouse: Path, table: str, sql: str, rows: int) -> None:
    source, entity = table.split("__")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(f"CREATE OR REPLACE TABLE raw.{table} ({RAW_COLUMNS})")
        con.execute(f"""INSERT INTO raw.{table}
            SELECT record_key, record, '{source}', '{entity}', 'bench-load',
                   now(), 'landing/bench.json', 0
            FROM ({sql})""", [rows])


def run(rows: int, chunk_rows: int) -> list[dict[str, float]]:
    """Build and validate both entities; return the timings."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "bench.duckdb"
        for table, sql in (("zendesk__tickets", TICKETS_SQL), ("matomo__visits", VISITS_SQL)):
            t0 = time.perf_counter()
            _build(warehouse, table, sql, rows)
            built = time.perf_counter() - t0
            source, entity = table.split("__")
            t0 = time.perf_counter()
            res = validate_entity(warehouse, source, entity, run_id=f"bench-{table}",
                                  as_of=datetime.now(UTC), chunk_rows=chunk_rows)
            took = time.perf_counter() - t0
            out.append({"entity": table, "rows": res.rows_checked,
                        "quarantined": res.rows_quarantined, "build_s": round(built, 2),
                        "validate_s": round(took, 2),
                        "s_per_million": round(took / res.rows_checked * 1e6, 1),
                        "passed": res.passed})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    import great_expectations  # noqa: F401  (import cost reported separately)

    print(f"great_expectations import: {time.perf_counter() - t0:.1f} s")
    for row in run(args.rows, args.chunk_rows):
        print(row)


if __name__ == "__main__":
    main()
