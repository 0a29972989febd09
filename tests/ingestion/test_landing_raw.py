"""Landing store, raw-table builder and drop folder: nothing lost, nothing duplicated."""

import json
from pathlib import Path

import duckdb
import pytest

from ingestion.connection import connect
from ingestion.drop_folder import load_drop_folder
from ingestion.landing import CursorStore, LandingStore
from ingestion.raw import merge_loads, rebuild_raw


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _page(items: list[dict]) -> bytes:
    return json.dumps({"tickets": items}).encode()


def test_latest_version_wins_and_bad_input_is_kept(tmp_path: Path) -> None:
    store = LandingStore(tmp_path)
    load = store.new_load("zendesk", "tickets")
    load.land(_page([{"id": 1, "status": "new"}, {"id": 2, "status": "open"}]),
              request={}, records_path="tickets", record_count=2)
    # page 2 repeats ticket 2 with a newer status and has one record without a key
    load.land(_page([{"id": 2, "status": "solved"}, {"subject": "no id"}]),
              request={}, records_path="tickets", record_count=2)
    load.land(b'{"tickets": [{"id": 3', request={}, records_path="tickets", record_count=0,
              status="rejected", error="truncated")
    warehouse = tmp_path / "w.duckdb"
    [result] = rebuild_raw(warehouse, tmp_path, [("zendesk", "tickets")])
    counts = (result.rows, result.files, result.rejected_files, result.unkeyed_records)
    assert counts == (2, 3, 1, 1)
    rows = _rows(warehouse, "SELECT record_key, record->>'$.status' FROM raw.zendesk__tickets "
                            "ORDER BY 1")
    assert rows == [("1", "new"), ("2", "solved")]
    assert _rows(warehouse, "SELECT record->>'$.subject' FROM raw._unkeyed_records") == [("no id",)]
    statuses = _rows(warehouse, "SELECT status, count(*) FROM raw._landing_files GROUP BY 1 "
                                "ORDER BY 1")
    assert statuses == [("ok", 2), ("rejected", 1)]


def test_page_changed_on_disk_is_reported_and_the_rest_loads(tmp_path: Path) -> None:
    """A page that landed as valid JSON but was damaged on disk since: the other pages of its
    batch still load, and it is named and marked unreadable instead of vanishing."""
    store = LandingStore(tmp_path)
    load = store.new_load("zendesk", "tickets")
    load.land(_page([{"id": 1}, {"id": 2}]), request={}, records_path="tickets", record_count=2)
    damaged = load.land(_page([{"id": 3}]), request={}, records_path="tickets", record_count=1)
    load.land(_page([{"id": 4}]), request={}, records_path="tickets", record_count=1)
    damaged.path.write_bytes(damaged.path.read_bytes()[:-5])
    warehouse = tmp_path / "w.duckdb"
    [result] = rebuild_raw(warehouse, tmp_path, [("zendesk", "tickets")])
    assert result.unreadable_files == (str(damaged.path.relative_to(tmp_path)),)
    assert _rows(warehouse, "SELECT record_key FROM raw.zendesk__tickets ORDER BY 1") == [
        ("1",), ("2",), ("4",)]
    assert _rows(warehouse, "SELECT status, count(*) FROM raw._landing_files GROUP BY 1 "
                            "ORDER BY 1") == [("ok", 2), ("unreadable", 1)]
    # restored, the page loads on the next rebuild and is no longer reported
    damaged.path.write_bytes(_page([{"id": 3}]))
    [result] = rebuild_raw(warehouse, tmp_path, [("zendesk", "tickets")])
    assert (result.rows, result.unreadable_files) == (4, ())


def test_incremental_merge_equals_full_rebuild(tmp_path: Path) -> None:
    store = LandingStore(tmp_path)
    first = store.new_load("zendesk", "tickets")
    first.land(_page([{"id": 1, "status": "new"}, {"id": 2, "status": "new"}]),
               request={}, records_path="tickets", record_count=2)
    warehouse = tmp_path / "w.duckdb"
    rebuild_raw(warehouse, tmp_path, [("zendesk", "tickets")])
    second = store.new_load("zendesk", "tickets")
    second.land(_page([{"id": 2, "status": "solved"}, {"id": 3, "status": "new"}]),
                request={}, records_path="tickets", record_count=2)
    with connect(warehouse) as con:
        merged = merge_loads(con, tmp_path, "zendesk", "tickets", [second.load_id])
        # merging the same load again changes nothing (idempotent)
        again = merge_loads(con, tmp_path, "zendesk", "tickets", [second.load_id])
    query = "SELECT record_key, record::VARCHAR, load_id FROM raw.zendesk__tickets ORDER BY 1"
    incremental = _rows(warehouse, query)
    rebuild_raw(warehouse, tmp_path, [("zendesk", "tickets")])
    assert _rows(warehouse, query) == incremental
    assert merged.rows == again.rows == 3
    assert [r[0] for r in incremental] == ["1", "2", "3"]


def test_merge_killed_midway_is_rolled_back_and_redone(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A merge killed after its loads were listed but before their records were in: nothing of
    it stays, and the next merge takes the same load (no loss, no duplicate)."""
    from ingestion import raw

    store = LandingStore(tmp_path)
    first = store.new_load("zendesk", "tickets")
    first.land(_page([{"id": 1, "status": "new"}]), request={}, records_path="tickets",
               record_count=1)
    warehouse = tmp_path / "w.duckdb"
    rebuild_raw(warehouse, tmp_path, [("zendesk", "tickets")])
    second = store.new_load("zendesk", "tickets")
    second.land(_page([{"id": 1, "status": "solved"}, {"id": 2, "status": "new"}]),
                request={}, records_path="tickets", record_count=2)

    def killed(*args: object) -> str:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(raw, "_records_sql", killed)
    with pytest.raises(KeyboardInterrupt), connect(warehouse) as con:
        merge_loads(con, tmp_path, "zendesk", "tickets", [second.load_id])
    query = "SELECT record_key, record->>'$.status' FROM raw.zendesk__tickets ORDER BY 1"
    assert _rows(warehouse, query) == [("1", "new")]
    assert _rows(warehouse, "SELECT DISTINCT load_id FROM raw._landing_files") == [
        (first.load_id,)]
    monkeypatch.undo()
    with connect(warehouse) as con:
        merge_loads(con, tmp_path, "zendesk", "tickets", [])  # a later run, no new load
    assert _rows(warehouse, query) == [("1", "solved"), ("2", "new")]


def test_moodle_extra_keys_are_added(tmp_path: Path) -> None:
    load = LandingStore(tmp_path).new_load("moodle", "enrolments")
    load.land(json.dumps([{"id": 7, "idnumber": "SP1"}]).encode(), request={},
              records_path=None, record_count=1, extra={"courseid": 5})
    warehouse = tmp_path / "w.duckdb"
    rebuild_raw(warehouse, tmp_path, [("moodle", "enrolments")])
    assert _rows(warehouse, "SELECT record_key, record->>'$.courseid' "
                            "FROM raw.moodle__enrolments") == [("5-7", "5")]


def test_drop_folder_loads_each_file_once(tmp_path: Path) -> None:
    drop = tmp_path / "drop" / "kobo"
    (drop / "feedback").mkdir(parents=True)
    (drop / "feedback" / "a.jsonl").write_text('{"_id": 1, "nps": "9"}\n{"_id": 2}\n')
    (drop / "feedback" / "b.json").write_text(json.dumps({"results": [{"_id": 3}]}))
    (drop / "feedback" / "c.csv").write_text("_id,nps\n4,7\n5,10\n")
    (drop / "feedback" / "broken.json").write_text('{"results": [')
    data = tmp_path / "data"
    first = load_drop_folder(drop, data, "kobo")
    assert (first.files_loaded, first.records, len(first.errors)) == (4, 5, 1)
    again = load_drop_folder(drop, data, "kobo")
    assert (again.files_loaded, again.files_skipped) == (0, 4)
    warehouse = data / "w.duckdb"
    rebuild_raw(warehouse, data, [("kobo", "feedback")])
    keys = _rows(warehouse, "SELECT record_key FROM raw.kobo__feedback ORDER BY record_key::INT")
    assert [k for (k,) in keys] == ["1", "2", "3", "4", "5"]
    # a corrected file under the same name has a new checksum and loads again
    (drop / "feedback" / "c.csv").write_text("_id,nps\n4,8\n5,10\n")
    assert load_drop_folder(drop, data, "kobo").files_loaded == 1


def test_drop_folder_reads_its_ledger_once_per_load(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Thirty files, loaded, then a second load that skips them all: the ledger file is read
    once per load, not once per file (which grew as files x history)."""
    drop = tmp_path / "drop" / "kobo"
    folder = drop / "feedback"
    folder.mkdir(parents=True)
    for i in range(30):
        (folder / f"day{i:02d}.jsonl").write_text(json.dumps({"_id": i}) + "\n")
    data = tmp_path / "data"
    reads: list[Path] = []
    real = Path.read_text

    def counted(self: Path, *args: object, **kwargs: object) -> str:
        if self.name == "drop_ledger.jsonl":
            reads.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counted)
    first = load_drop_folder(drop, data, "kobo")
    assert (first.files_loaded, first.records, reads) == (30, 30, [])  # no ledger yet
    again = load_drop_folder(drop, data, "kobo")
    assert (again.files_loaded, again.files_skipped, len(reads)) == (0, 30, 1)
    (folder / "day30.jsonl").write_text(json.dumps({"_id": 30}) + "\n")
    third = load_drop_folder(drop, data, "kobo")
    assert (third.files_loaded, third.files_skipped, len(reads)) == (1, 30, 2)


def test_cursor_store_round_trip(tmp_path: Path) -> None:
    cursors = CursorStore(tmp_path)
    assert cursors.get("zendesk", "tickets") is None
    cursors.set("zendesk", "tickets", {"cursor": "abc", "start_time": 1})
    assert cursors.get("zendesk", "tickets") == {"cursor": "abc", "start_time": 1}


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_record_index_is_the_position_in_a_large_file(tmp_path: Path, fmt: str) -> None:
    """DuckDB reads a large file in parallel chunks: each record must still get its own line's
    position and, for Moodle's one-response-per-line files, its own student's id."""
    lines = 120_000
    if fmt == "jsonl":
        source, entity, key = "moodle", "completions", "record->>'$.userid'"
        payload = b"".join(json.dumps({"line": n, "completed": n % 2 == 0}).encode() + b"\n"
                           for n in range(1, lines + 1))
        extras = {"extra": {"courseid": 9},
                  "record_extras": [{"userid": n} for n in range(1, lines + 1)]}
    else:
        source, entity, key = "kobo", "feedback", "record_key"
        payload = ("_id,line\n" + "".join(f"{n},{n}\n" for n in range(1, lines + 1))).encode()
        extras = {}
    load = LandingStore(tmp_path).new_load(source, entity)
    load.land(payload, request={}, records_path=None, record_count=lines, fmt=fmt, **extras)
    warehouse = tmp_path / "w.duckdb"
    rebuild_raw(warehouse, tmp_path, [(source, entity)])
    misplaced = _rows(warehouse, f"""
        SELECT count(*), count(*) FILTER (WHERE (record->>'$.line')::INT <> record_index
                                             OR {key} <> record->>'$.line')
        FROM raw.{source}__{entity}""")
    assert misplaced == [(lines, 0)]
