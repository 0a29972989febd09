"""Records that never reach a raw table (unreadable lines, records without a key) are counted
by validation, listed in `quality.quarantine` with the file, line and reason, and shown per
source in the report; bad values that do reach it are quarantined by their rules."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from quality_data import AS_OF, clean

from ingestion.drop_folder import load_drop_folder
from ingestion.raw import rebuild_raw
from quality.validate import validate_all, validate_entity


def _q(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse)) as con:
        return con.execute(sql).fetchall()


def _drop(folder: Path, name: str, lines: list[bytes | dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"".join(
        (line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n"
        for line in lines))


def test_set_aside_records_are_counted_listed_and_reported(tmp_path: Path) -> None:
    drop, data = tmp_path / "drop" / "zendesk", tmp_path / "data"
    warehouse = data / "warehouse.duckdb"
    tickets = clean("zendesk", "tickets")
    wrong_key, bad_time, unknown_code = (dict(tickets[0], id="abc"),
                                         dict(tickets[1], created_at="yesterday"),
                                         dict(tickets[2], status="reslved"))
    keyless = {k: v for k, v in tickets[3].items() if k != "id"}
    _drop(drop / "tickets", "march export.jsonl",
          [wrong_key, bad_time, unknown_code, keyless, b'{"id": 1099, "status": "op',
           *tickets[4:]])
    _drop(drop / "users", "users.jsonl", [b"<html>not an export</html>"])  # rejected whole
    load_drop_folder(drop, data, "zendesk")
    rebuild_raw(warehouse, data, [("zendesk", "tickets"), ("zendesk", "users")])

    res = validate_entity(warehouse, "zendesk", "tickets", run_id="r1", as_of=AS_OF)
    assert (res.rows_checked, res.rows_unreadable, res.rows_unkeyed) == (5, 1, 1)
    assert res.passed and res.rows_set_aside == 2
    reasons = dict(_q(warehouse, "SELECT rule, reason FROM quality.quarantine "
                                 "WHERE run_id = 'r1' ORDER BY rule"))
    assert reasons["record_readable"].startswith(
        "march export.jsonl line 5: not valid JSON (unexpected end of data")
    assert reasons["record_key_present"].startswith("march export.jsonl record 4: no `id`")
    assert reasons["id_type"] == "id 'abc' is not an integer"
    assert reasons["created_at_type"] == "created_at 'yesterday' is not a timestamp"
    assert reasons["status_accepted_values"].startswith("status 'reslved' not in accepted")
    assert any("2 record(s) set aside before validation (1 unreadable, 1 without a key)" in w
               for w in res.warnings)

    # a load none of whose records reached the table is counted once, then done
    users = validate_entity(warehouse, "zendesk", "users", run_id="r1", as_of=AS_OF)
    assert (users.rows_checked, users.rows_unreadable, users.passed) == (0, 1, True)
    assert _q(warehouse, "SELECT row_count FROM quality.validated_loads "
                         "WHERE entity = 'users'") == [(None,)]
    assert validate_entity(warehouse, "zendesk", "users", run_id="r2",
                           as_of=AS_OF).rows_set_aside == 0

    # re-validating the same loads replaces their rows instead of adding to them
    again = validate_entity(warehouse, "zendesk", "tickets", run_id="r3", as_of=AS_OF,
                            only_new_loads=False)
    assert again.rows_set_aside == 2
    assert _q(warehouse, "SELECT count(*) FROM quality.quarantine WHERE list_contains("
                         "['record_readable', 'record_key_present'], rule) "
                         "AND entity = 'tickets'") == [(2,)]


def test_report_counts_what_was_set_aside_per_source(tmp_path: Path) -> None:
    drop, data = tmp_path / "drop", tmp_path / "data"
    warehouse = data / "warehouse.duckdb"
    _drop(drop / "kobo" / "feedback", "fb.jsonl",
          [*clean("kobo", "feedback"), b"{broken", b"{broken too"])
    load_drop_folder(drop / "kobo", data, "kobo")
    rebuild_raw(warehouse, data, [("kobo", "feedback")])
    results = validate_all(warehouse, run_id="run-9", as_of=AS_OF, report_dir=tmp_path)
    feedback = next(r for r in results if r.key == "kobo__feedback")
    assert feedback.rows_unreadable == 2
    html = (tmp_path / "validation_run-9.html").read_text()
    section = html[html.index('id="set-aside"'):html.index("<h2>Entities")]
    assert "<td>kobo</td><td>6</td>\n<td>0</td><td>2</td><td>0</td>\n<td>2</td>" in section
    assert "fb.jsonl line 7: not valid JSON" in html
    assert _q(warehouse, "SELECT rows_set_aside FROM quality.validation_runs") == [(2,)]
