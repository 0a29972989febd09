"""The raw layer as a Parquet lake: the lake holds the raw tables row for row, months are
rewritten only when they change, and a lake that cannot be written fails at start."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from ingestion.connection import connect
from ingestion.lake import Lake, LakeError, check_lake, sync_warehouse
from ingestion.landing import LandingStore, LoadWriter
from ingestion.raw import merge_loads, rebuild_raw
from ingestion.settings import Settings

TICKETS = [("zendesk", "tickets")]
TZ = "Africa/Johannesburg"  # UTC+2, no daylight saving


def _land(store: LandingStore, loaded_at: str, items: list[dict]) -> LoadWriter:
    """One load of one page, stamped as landed at `loaded_at` (UTC)."""
    load = store.new_load("zendesk", "tickets")
    page = load.land(json.dumps({"tickets": items}).encode(), request={},
                     records_path="tickets", record_count=len(items))
    meta_path = page.path.with_name(page.path.name + ".meta.json")
    meta = json.loads(meta_path.read_text())
    meta["loaded_at"] = loaded_at
    meta_path.write_text(json.dumps(meta))
    return load


def _lake_rows(lake: Path) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(f"""
            SELECT load_month, record_key, record, source, entity, load_id, loaded_at,
                   landing_file, record_index
            FROM read_parquet('{lake}/raw/zendesk__tickets/*/*.parquet',
                              hive_partitioning = true)
            ORDER BY ALL""").fetchall()


def _table_rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"""
            SELECT strftime(timezone('{TZ}', loaded_at), '%Y-%m'), record_key,
                   record::VARCHAR, source, entity, load_id, loaded_at, landing_file,
                   record_index
            FROM raw.zendesk__tickets ORDER BY ALL""").fetchall()


def _files(lake: Path) -> dict[str, float]:
    """Every Parquet file of the tickets table, with its modification time."""
    return {str(p.relative_to(lake)): p.stat().st_mtime_ns
            for p in sorted((lake / "raw" / "zendesk__tickets").glob("*/*.parquet"))}


def test_lake_holds_the_raw_tables_row_for_row(tmp_path: Path) -> None:
    store = LandingStore(tmp_path)
    _land(store, "2025-01-15T08:00:00+00:00", [{"id": 1, "s": "new"}, {"id": 2, "s": "new"}])
    # 22:30 UTC on 31 January is 00:30 on 1 February in Johannesburg: a February load
    _land(store, "2025-01-31T22:30:00+00:00", [{"id": 2, "s": "solved"}, {"id": 3}, {"x": 0}])
    warehouse, lake = tmp_path / "w.duckdb", tmp_path / "lake"
    rebuild_raw(warehouse, tmp_path, TICKETS)
    [synced] = sync_warehouse(warehouse, Lake(str(lake), TZ), TICKETS)

    assert synced.rewritten == ("2025-01", "2025-02") and synced.removed == ()
    assert sorted(p.name for p in (lake / "raw" / "zendesk__tickets").iterdir()) == [
        "load_month=2025-01", "load_month=2025-02"]
    rows = _lake_rows(lake)
    assert rows == _table_rows(warehouse)
    assert [(r[0], r[1], json.loads(r[2]).get("s")) for r in rows] == [
        ("2025-01", "1", "new"), ("2025-02", "2", "solved"), ("2025-02", "3", None)]
    with duckdb.connect() as con:
        described = dict(con.execute(
            f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
            f"'{lake}/raw/zendesk__tickets/*/*.parquet')").fetchall())
        side = {name: con.execute(f"SELECT count(*) FROM '{lake}/raw/{name}/data.parquet'")
                .fetchone()[0] for name in ("_landing_files", "_unkeyed_records")}
    assert described["record"] == "VARCHAR"  # JSON as a string column, for any reader
    assert list(described) == ["record_key", "record", "source", "entity", "load_id",
                               "loaded_at", "landing_file", "record_index", "load_month"]
    assert side == {"_landing_files": 2, "_unkeyed_records": 1}


def test_rebuild_and_sync_again_write_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    store = LandingStore(tmp_path)
    _land(store, "2025-01-15T08:00:00+00:00", [{"id": 1}, {"id": 2}])
    _land(store, "2025-03-02T08:00:00+00:00", [{"id": 3}])
    warehouse, lake = tmp_path / "w.duckdb", tmp_path / "lake"
    rebuild_raw(warehouse, tmp_path, TICKETS)
    sync_warehouse(warehouse, Lake(str(lake), TZ), TICKETS)
    files, rows = _files(lake), _lake_rows(lake)
    rebuild_raw(warehouse, tmp_path, TICKETS)
    [again] = sync_warehouse(warehouse, Lake(str(lake), TZ), TICKETS)
    assert again.rewritten == again.removed == ()
    assert _files(lake) == files
    assert _lake_rows(lake) == rows and len(rows) == 3


def test_incremental_merge_rewrites_only_the_months_it_changed(tmp_path: Path) -> None:
    store = LandingStore(tmp_path)
    _land(store, "2025-01-15T08:00:00+00:00", [{"id": 1, "s": "new"}, {"id": 2, "s": "new"}])
    warehouse, lake_dir = tmp_path / "w.duckdb", tmp_path / "lake"
    lake = Lake(str(lake_dir), TZ)
    rebuild_raw(warehouse, tmp_path, TICKETS)
    sync_warehouse(warehouse, lake, TICKETS)
    january = _files(lake_dir)

    new = _land(store, "2025-03-02T08:00:00+00:00", [{"id": 3, "s": "new"}])
    with connect(warehouse) as con:
        merge_loads(con, tmp_path, "zendesk", "tickets", [new.load_id])
    [synced] = sync_warehouse(warehouse, lake, TICKETS)
    assert synced.rewritten == ("2025-03",)
    files = _files(lake_dir)
    assert {k: v for k, v in files.items() if "2025-01" in k} == january  # untouched
    assert [r[:2] for r in _lake_rows(lake_dir)] == [
        ("2025-01", "1"), ("2025-01", "2"), ("2025-03", "3")]

    # a March pull with a newer version of ticket 1 moves it out of January
    update = _land(store, "2025-03-20T08:00:00+00:00", [{"id": 1, "s": "solved"}])
    with connect(warehouse) as con:
        merge_loads(con, tmp_path, "zendesk", "tickets", [update.load_id])
    [synced] = sync_warehouse(warehouse, lake, TICKETS)
    assert synced.rewritten == ("2025-01", "2025-03")
    assert [r[:2] for r in _lake_rows(lake_dir)] == [
        ("2025-01", "2"), ("2025-03", "1"), ("2025-03", "3")]
    assert _lake_rows(lake_dir) == _table_rows(warehouse)


def test_a_month_lost_or_doubled_by_a_killed_sync_is_repaired(tmp_path: Path) -> None:
    """What an interrupted swap can leave (a month deleted before its new files moved in), and
    a month whose files were copied twice by hand: the next sync finds both and rewrites
    them, and a month the table no longer has is removed."""
    store = LandingStore(tmp_path)
    _land(store, "2025-01-15T08:00:00+00:00", [{"id": 1}])
    _land(store, "2025-02-15T08:00:00+00:00", [{"id": 2}])
    warehouse, lake_dir = tmp_path / "w.duckdb", tmp_path / "lake"
    lake = Lake(str(lake_dir), TZ)
    rebuild_raw(warehouse, tmp_path, TICKETS)
    sync_warehouse(warehouse, lake, TICKETS)
    table = lake_dir / "raw" / "zendesk__tickets"
    shutil.rmtree(table / "load_month=2025-01")
    [february] = (table / "load_month=2025-02").glob("*.parquet")
    shutil.copy(february, february.with_name("copy.parquet"))
    shutil.copytree(table / "load_month=2025-02", table / "load_month=2024-12")
    [synced] = sync_warehouse(warehouse, lake, TICKETS)
    assert synced.rewritten == ("2025-01", "2025-02") and synced.removed == ("2024-12",)
    assert [r[:2] for r in _lake_rows(lake_dir)] == [("2025-01", "1"), ("2025-02", "2")]


def test_unwritable_lake_fails_at_start_naming_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(LakeError) as local:
        check_lake(Lake(str(blocker / "lake"), TZ))
    message = str(local.value)
    assert message.startswith(f"SAYPRO_LAKE_URI={blocker / 'lake'} cannot be written (")
    assert "point it at a folder this user can create and write" in message
    assert "\n" not in message
    # an object store this machine cannot reach (no httpfs download, no network, no keys)
    with pytest.raises(LakeError) as remote:
        check_lake(Lake("s3://saypro-no-such-bucket/lake", TZ))
    assert str(remote.value).startswith("SAYPRO_LAKE_URI=s3://saypro-no-such-bucket/lake "
                                        "cannot be written (")
    assert "httpfs" in str(remote.value) and "\n" not in str(remote.value)
    check_lake(Lake(str(tmp_path / "new" / "lake"), TZ))  # a folder that can be made: fine
    assert list((tmp_path / "new" / "lake").iterdir()) == []  # the probe is cleaned up


def test_lake_uri_setting_default_and_object_store_uri(tmp_path: Path) -> None:
    default = Settings.from_env({"SAYPRO_DATA_DIR": str(tmp_path)})
    assert Lake.of(default) == Lake(str(tmp_path / "lake"), "Africa/Johannesburg")
    assert not Lake.of(default).remote
    s3 = Settings.from_env({"SAYPRO_DATA_DIR": str(tmp_path), "SAYPRO_TIMEZONE": "UTC",
                            "SAYPRO_LAKE_URI": "s3://bucket/saypro/lake/"})
    assert Lake.of(s3).remote
    assert Lake.of(s3).table_path("zendesk", "tickets") == \
        "s3://bucket/saypro/lake/raw/zendesk__tickets"
    relative = Settings.from_env({"SAYPRO_LAKE_URI": "lake-here"})
    assert relative.lake_uri == str(Path("lake-here").resolve())
