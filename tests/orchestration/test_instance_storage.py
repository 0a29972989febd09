"""The instance's SQLite storage keeping one engine per file (orchestration/instance_storage.py)."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster import AssetCheckKey
from dagster._core.events import (
    AssetCheckEvaluationPlanned,
    AssetMaterializationPlannedData,
    DagsterEvent,
    DagsterEventType,
    StepMaterializationData,
)
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus,
)

import orchestration.instance_storage as storage
from orchestration.runner import prepare_dagster_home
from tests.conftest import REPO


@dg.asset
def counted() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


def _log_entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(error_info=None, level=20, user_message=message, run_id=run_id,
                         timestamp=time.time())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    return prepare_dagster_home(tmp_path)


def test_the_repo_instance_uses_it_and_a_run_reads_back(home: Path) -> None:
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage,
                          storage.EngineKeepingSqliteEventLogStorage)
        assert isinstance(instance.run_storage, storage.EngineKeepingSqliteRunStorage)
        result = dg.materialize([counted], instance=instance)
        assert result.success
        event = instance.get_latest_materialization_event(dg.AssetKey("counted"))
        assert event is not None and event.run_id == result.run_id
        assert event.asset_materialization.metadata["rows"] == dg.MetadataValue.int(3)
    # The files `storage: sqlite` writes, where it writes them.
    assert (home / "history" / "runs.db").exists()
    assert (home / "history" / "runs" / f"{result.run_id}.db").exists()
    assert (home / "history" / "runs" / "index.db").exists()


def test_an_instance_switched_from_plain_sqlite_keeps_its_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("storage:\n  sqlite:\n    base_dir: " + str(home) + "\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        assert not isinstance(instance.event_log_storage,
                              storage.EngineKeepingSqliteEventLogStorage)
        before = dg.materialize([counted], instance=instance).run_id
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage,
                          storage.EngineKeepingSqliteEventLogStorage)
        assert instance.get_run_by_id(before) is not None
        assert instance.get_latest_materialization_event(dg.AssetKey("counted")).run_id == before
        after = dg.materialize([counted], instance=instance).run_id
        assert {r.run_id for r in instance.get_runs()} == {before, after}


def test_one_engine_per_file_and_connections_closed_after_each_use(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = storage.create_engine
    monkeypatch.setattr(storage, "create_engine",
                        lambda url, **kw: made.append(str(url)) or real(url, **kw))
    events = storage.EngineKeepingSqliteEventLogStorage(str(tmp_path))
    run_id = "a" * 36
    shard = Path(events.path_for_shard(run_id))
    for i in range(20):
        events.store_event(_log_entry(run_id, f"line {i}"))
        # Closed after each use: SQLite folds the write-ahead log into the run's file, which
        # the UI's watcher follows for live logs.
        assert not Path(f"{shard}-wal").exists()
    assert [e.user_message for e in events.get_logs_for_run(run_id)] == [
        f"line {i}" for i in range(20)]
    assert made.count(events.conn_string_for_shard(run_id)) == 1, made


def test_the_index_keeps_its_connection_open_until_disposed(tmp_path: Path) -> None:
    """The index file (asset and check events of every run) is not followed by the UI's
    watcher, so its connection stays open: no checkpoint and fsync each time one closes."""
    events = storage.EngineKeepingSqliteEventLogStorage(str(tmp_path))
    run_id = "b" * 36
    materialized = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value, job_name="job",
        event_specific_data=StepMaterializationData(dg.AssetMaterialization("counted")))
    events.store_event(EventLogEntry(error_info=None, level=20, user_message="", run_id=run_id,
                                     timestamp=time.time(), dagster_event=materialized))
    index = Path(events.path_for_shard("index"))
    assert Path(f"{index}-wal").exists(), "index connection closed after use"
    assert not Path(f"{events.path_for_shard(run_id)}-wal").exists()
    assert events.get_latest_materialization_events([dg.AssetKey("counted")])[
        dg.AssetKey("counted")].run_id == run_id
    events.dispose()
    assert not Path(f"{index}-wal").exists(), "index connection left open after dispose"


def test_engines_beyond_the_bound_are_dropped(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "MAX_ENGINES", 3)
    events = storage.EngineKeepingSqliteEventLogStorage(str(tmp_path))
    runs = [f"{i:036d}" for i in range(5)]
    for run_id in runs:
        events.store_event(_log_entry(run_id, "hello"))
    kept = list(events._engines._engines)
    assert len(kept) == 3
    assert kept == [events.conn_string_for_shard(r) for r in runs[2:]]
    for run_id in runs:  # a dropped engine is made again when needed
        assert [e.user_message for e in events.get_logs_for_run(run_id)] == ["hello"]


def _planned_events(run_id: str, assets: int) -> list[EventLogEntry]:
    """A run's planned materialisations and checks, as Dagster reports them at its start."""
    events = []
    for i in range(assets):
        key = dg.AssetKey(f"asset_{i}")
        for event_type, data in (
                (DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
                 AssetMaterializationPlannedData(key)),
                (DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
                 AssetCheckEvaluationPlanned(asset_key=key, check_name="not_null"))):
            events.append(EventLogEntry(
                error_info=None, level=10, user_message="", run_id=run_id, timestamp=time.time(),
                dagster_event=DagsterEvent(event_type_value=event_type.value, job_name="job",
                                           event_specific_data=data)))
    return events


def _count_commits(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    commits: Counter[str] = Counter()
    real = storage.create_engine

    def counting(url: str, **kw: Any) -> sa.Engine:
        engine = real(url, **kw)
        sa.event.listen(engine, "commit", lambda conn: commits.update([Path(str(url)).stem]))
        return engine

    monkeypatch.setattr(storage, "create_engine", counting)
    return commits


def test_a_batch_is_one_transaction_per_file(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    commits = _count_commits(monkeypatch)
    events = storage.EngineKeepingSqliteEventLogStorage(str(tmp_path))
    run_id = "c" * 36
    events.store_event(_log_entry(run_id, "run started"))  # the run file's set-up
    commits.clear()
    events.store_event_batch(_planned_events(run_id, 30))
    assert commits == {run_id: 1, "index": 1}
    assert len(events.get_records_for_run(run_id).records) == 61
    for i in (0, 29):
        key = dg.AssetKey(f"asset_{i}")
        assert events.get_latest_planned_materialization_info(key).run_id == run_id
        history = events.get_asset_check_execution_history(
            AssetCheckKey(key, "not_null"), limit=5)
        assert [(r.run_id, r.status) for r in history] == [
            (run_id, AssetCheckExecutionRecordStatus.PLANNED)]
    # Outside a batch, one transaction per event and file again.
    commits.clear()
    events.store_event(_log_entry(run_id, "after the batch"))
    assert commits == {run_id: 1}


def test_a_failed_batch_keeps_none_of_its_events(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Dagster stores the events one by one after a batch fails; the batch must leave nothing
    behind, or those events would be there twice."""
    events = storage.EngineKeepingSqliteEventLogStorage(str(tmp_path))
    run_id = "d" * 36
    batch = _planned_events(run_id, 5)
    real = storage.SqliteEventLogStorage.store_event
    stored: list[EventLogEntry] = []

    def fails_on_the_sixth(self: Any, event: EventLogEntry) -> None:
        if len(stored) == 5:
            raise RuntimeError("disk full")
        stored.append(event)
        real(self, event)

    monkeypatch.setattr(storage.SqliteEventLogStorage, "store_event", fails_on_the_sixth)
    with pytest.raises(RuntimeError, match="disk full"):
        events.store_event_batch(batch)
    monkeypatch.undo()
    assert events.get_records_for_run(run_id).records == []
    assert events.get_latest_planned_materialization_info(dg.AssetKey("asset_0")) is None
    events.store_event_batch(batch)  # the lock was released, and the batch state cleared
    assert len(events.get_records_for_run(run_id).records) == 10


def test_a_run_s_planned_events_reach_the_storage_as_one_batch(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Unset, as in a new process; restored after the test (the storage sets it).
    monkeypatch.setenv(storage.EVENT_BATCH_SIZE_VARIABLE, "0")
    monkeypatch.delenv(storage.EVENT_BATCH_SIZE_VARIABLE)
    batches: list[int] = []
    real = storage.EngineKeepingSqliteEventLogStorage.store_event_batch
    monkeypatch.setattr(storage.EngineKeepingSqliteEventLogStorage, "store_event_batch",
                        lambda self, events: batches.append(len(events)) or real(self, events))

    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="checked")])
    def checked() -> dg.MaterializeResult:
        return dg.MaterializeResult(check_results=[dg.AssetCheckResult(passed=True)])

    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([counted, checked], instance=instance)
        assert result.success
        assert batches == [3]  # two materialisations and one check planned
        record = instance.event_log_storage.get_asset_check_execution_history(
            AssetCheckKey(dg.AssetKey("checked"), "positive"), limit=1)[0]
        assert record.run_id == result.run_id
        assert record.status == AssetCheckExecutionRecordStatus.SUCCEEDED
