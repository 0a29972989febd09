"""Hostile drop files and pages: what cannot be read is set aside with its file, line and
reason, the rest lands and loads, landing stays byte for byte, and a file is rejected only
when nothing in it can be read (docs/ARCHITECTURE.md, "Landing metadata")."""

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from ingestion.connection import connect
from ingestion.drop_folder import load_drop_folder
from ingestion.landing import LandingStore
from ingestion.payloads import UTF8_BOM, UTF8_CP1252, check, encoding_of
from ingestion.raw import merge_loads, rebuild_raw

SHELL_NAME = "tickets 2025; rm -rf ~ $(id) `id` 'q' \"dq\" & données.jsonl"


def _ticket(tid: int, **fields: object) -> bytes:
    return json.dumps({"id": tid, "status": "open", **fields}, ensure_ascii=False).encode()


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def hostile_drop(tmp_path: Path) -> Path:
    """One file per kind of damage, all for zendesk tickets (ids 1-99 load, 900s do not)."""
    folder = tmp_path / "drop" / "zendesk" / "tickets"
    folder.mkdir(parents=True)
    lines = [_ticket(1), _ticket(2)[:15], b"", _ticket(3, subject="x" * 2**20), b"  \r",
             _ticket(4) + b"\r", b'{"status": "open", "subject": "no id"}', b'{"id": NaN}']
    (folder / SHELL_NAME).write_bytes(b"\n".join(lines) + b"\n")
    (folder / "windows.jsonl").write_bytes(
        _ticket(5, subject="café ’quoted’").decode().encode("cp1252") + b"\n"
        + _ticket(6, subject="naïve") + b"\n")  # a UTF-8 line in a cp1252 file
    (folder / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + _ticket(7) + b"\n")
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "empty.json").write_bytes(b"\n")
    (folder / "cut.json").write_bytes(b'{"count": 3, "tickets": [' + _ticket(8) + b",\n"
                                      + _ticket(9) + b",\n" + _ticket(901)[:12])
    (folder / "garbage.json").write_bytes(bytes(range(256)) * 4)
    (folder / "all bad.jsonl").write_bytes(b"{\n[1,\n")
    (folder / "rows.csv").write_bytes(b"id,status\n10,open\n11,open,extra\n12,solved\n")
    return tmp_path / "drop" / "zendesk"


def test_hostile_drop_files_land_as_sent_and_set_aside_only_what_cannot_be_read(
        tmp_path: Path, hostile_drop: Path) -> None:
    data = tmp_path / "data"
    result = load_drop_folder(hostile_drop, data, "zendesk")
    assert result.files_loaded == 9
    assert sorted(e.split(":")[0] for e in result.errors) == [
        "zendesk/tickets/all bad.jsonl", "zendesk/tickets/garbage.json"]
    assert all("nothing in it can be read" in e and "drop it again" in e for e in result.errors)
    assert any(w.startswith("zendesk/tickets/empty.jsonl holds no records")
               for w in result.warnings)
    assert any(w.startswith(f"zendesk/tickets/{SHELL_NAME}: 2 unreadable") for w in result.warnings)

    # every file landed byte for byte, with its encoding recorded
    metas = list(LandingStore(data).metas("zendesk", "tickets"))
    landed = {m["original_name"]: m for m in metas}
    for path in hostile_drop.glob("tickets/*"):
        meta = landed[path.name]
        payload = (data / "landing/zendesk/tickets" / meta["load_id"]
                   / f"{meta['seq']:06d}.{meta['format']}").read_bytes()
        assert payload == path.read_bytes()
        assert hashlib.sha256(payload).hexdigest() == meta["checksum"]
    assert landed["windows.jsonl"]["encoding"] == UTF8_CP1252
    assert landed["bom.jsonl"]["encoding"] == UTF8_BOM
    assert landed["garbage.json"]["status"] == "rejected"

    warehouse = data / "w.duckdb"
    [built] = rebuild_raw(warehouse, data, [("zendesk", "tickets")])
    assert _rows(warehouse, "SELECT record_key FROM raw.zendesk__tickets "
                            "ORDER BY record_key::INT") == [
        (str(i),) for i in (1, 3, 4, 5, 6, 7, 8, 9, 10, 12)]
    subjects = dict(_rows(warehouse, "SELECT record_key, record->>'$.subject' FROM "
                                     "raw.zendesk__tickets WHERE record_key IN ('3', '5', '6')"))
    assert subjects == {"3": "x" * 2**20, "5": "café ’quoted’", "6": "naïve"}
    # the position of a line counts the unreadable ones, not the blank ones
    assert _rows(warehouse, "SELECT record_index FROM raw.zendesk__tickets "
                            "WHERE record_key = '4'") == [(4,)]
    assert _rows(warehouse, "SELECT record->>'$.subject' FROM raw._unkeyed_records") == [
        ("no id",)]
    unreadable = _rows(warehouse, """
        SELECT original_name, line, reason, text_prefix FROM raw._unreadable_records
        ORDER BY original_name, line""")
    assert built.unreadable_records == len(unreadable) == 6
    by_file = {(name, line): (reason, text) for name, line, reason, text in unreadable}
    assert by_file[(SHELL_NAME, 2)][0].startswith("not valid JSON (unexpected end of data")
    assert by_file[(SHELL_NAME, 2)][1] == _ticket(2)[:15].decode()
    assert by_file[(SHELL_NAME, 8)][0].startswith("not valid JSON")  # NaN is not JSON
    assert by_file[("cut.json", 3)][0].startswith("not valid JSON after record 2")
    assert by_file[("cut.json", 3)][1] == _ticket(901)[:12].decode()
    assert by_file[("rows.csv", 3)][0].startswith("CSV row not read (Expected Number of Columns")
    assert by_file[("rows.csv", 3)][1] == "11,open,extra"
    assert by_file[("garbage.json", 1)][0].startswith("file not read: not valid JSON")
    assert by_file[("all bad.jsonl", 1)][0].startswith("file not read: none of its 2 lines")
    statuses = dict(_rows(warehouse, "SELECT meta->>'$.original_name', status "
                                     "FROM raw._landing_files"))
    assert statuses["garbage.json"] == statuses["all bad.jsonl"] == "rejected"
    assert statuses[SHELL_NAME] == statuses["cut.json"] == statuses["empty.json"] == "ok"

    # nothing lands twice; a merge of the same loads and a full rebuild agree
    assert load_drop_folder(hostile_drop, data, "zendesk").files_loaded == 0
    query = ("SELECT record_key, record::VARCHAR, record_index FROM raw.zendesk__tickets "
             "UNION ALL SELECT original_name, reason, line FROM raw._unreadable_records "
             "ORDER BY ALL")
    before = _rows(warehouse, query)
    with connect(warehouse) as con:
        merge_loads(con, data, "zendesk", "tickets", [m["load_id"] for m in metas])
    assert _rows(warehouse, query) == before


def test_per_line_keys_stay_with_their_lines_around_an_unreadable_one(tmp_path: Path) -> None:
    """Moodle completions land one response per line with the student's id beside it: lines
    read one by one keep their positions, so each record still gets its own student."""
    lines = [json.dumps({"line": n, "completionstatus": {"completed": True}}).encode()
             for n in range(1, 6)]
    lines[2] = lines[2][:20]
    payload = b"\n".join(lines) + b"\n"
    load = LandingStore(tmp_path).new_load("moodle", "completions")
    load.land(payload, request={}, records_path=None, record_count=4, fmt="jsonl",
              extra={"courseid": 3}, record_extras=[{"userid": n} for n in range(1, 6)],
              readability=check("jsonl", payload))
    warehouse = tmp_path / "w.duckdb"
    rebuild_raw(warehouse, tmp_path, [("moodle", "completions")])
    assert _rows(warehouse, "SELECT record_key, record->>'$.line', record_index "
                            "FROM raw.moodle__completions ORDER BY record_index") == [
        ("3-1", "1", 1), ("3-2", "2", 2), ("3-4", "4", 4), ("3-5", "5", 5)]
    assert _rows(warehouse, "SELECT line FROM raw._unreadable_records") == [(3,)]


def test_a_line_damaged_on_disk_after_landing_is_set_aside(tmp_path: Path) -> None:
    """Landing found the file clean, so DuckDB's reader takes it whole and fails on the line
    damaged since: the build starts again line by line and sets that line aside."""
    payload = b"\n".join(_ticket(i) for i in range(1, 5)) + b"\n"
    load = LandingStore(tmp_path).new_load("zendesk", "tickets")
    landed = load.land(payload, request={}, records_path=None, record_count=4, fmt="jsonl",
                       readability=check("jsonl", payload))
    landed.path.write_bytes(payload.replace(_ticket(2), _ticket(2)[:9]))
    warehouse = tmp_path / "w.duckdb"
    [built] = rebuild_raw(warehouse, tmp_path, [("zendesk", "tickets")])
    assert (built.rows, built.unreadable_records) == (3, 1)
    [(line, reason)] = _rows(warehouse, "SELECT line, reason FROM raw._unreadable_records")
    assert line == 2 and "changed since it landed" in reason


def test_a_page_that_is_not_utf8_is_read_as_cp1252(tmp_path: Path) -> None:
    """An API page with Windows-1252 bytes parses (ingestion.http) and lands as sent; raw
    reads it the same way."""
    from ingestion.http import _parse

    body = json.dumps({"tickets": [{"id": 1, "subject": "Résumé"}]}).replace(
        "\\u00e9", "é").encode("cp1252")
    assert encoding_of(body) == UTF8_CP1252
    assert _parse(body)["tickets"][0]["subject"] == "Résumé"
    LandingStore(tmp_path).new_load("zendesk", "tickets").land(
        body, request={}, records_path="tickets", record_count=1)
    warehouse = tmp_path / "w.duckdb"
    rebuild_raw(warehouse, tmp_path, [("zendesk", "tickets")])
    assert _rows(warehouse, "SELECT record->>'$.subject' FROM raw.zendesk__tickets") == [
        ("Résumé",)]


def test_a_csv_file_nothing_can_be_read_from_is_rejected_not_fatal(tmp_path: Path) -> None:
    """A binary or UTF-16 `.csv` is rejected when it lands, like an unreadable JSON file, and
    the raw table builds from the other files (it failed every later build: DuckDB's reader
    could not sniff it)."""
    folder = tmp_path / "drop" / "zendesk" / "tickets"
    folder.mkdir(parents=True)
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 12)
    (folder / "utf16.csv").write_bytes("\ufeffid,status\n20,open\n".encode("utf-16-le"))
    (folder / "rows.csv").write_bytes(b"id,status\n10,open\n12,solved\n")
    data = tmp_path / "data"
    result = load_drop_folder(tmp_path / "drop" / "zendesk", data, "zendesk")
    assert sorted(e.split(":")[0] for e in result.errors) == [
        "zendesk/tickets/binary.csv", "zendesk/tickets/utf16.csv"]
    warehouse = data / "w.duckdb"
    rebuild_raw(warehouse, data, [("zendesk", "tickets")])
    assert _rows(warehouse, "SELECT record_key FROM raw.zendesk__tickets ORDER BY 1") == [
        ("10",), ("12",)]
    statuses = dict(_rows(warehouse, "SELECT meta->>'$.original_name', status "
                                     "FROM raw._landing_files"))
    assert statuses == {"binary.csv": "rejected", "utf16.csv": "rejected", "rows.csv": "ok"}
    reasons = dict(_rows(warehouse, "SELECT original_name, reason FROM raw._unreadable_records"))
    assert "NUL bytes" in reasons["utf16.csv"], reasons
