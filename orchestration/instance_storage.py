"""Dagster's SQLite instance storage, with one SQLAlchemy engine kept per database file.

Dagster's SQLite storages create a new engine for every statement they run. An engine holds
SQLAlchemy's cache of compiled statements, so each event was compiled again (about 5 ms of
each event's 6 to 12 ms), and a monthly run stores about 900 events (benchmarks/README.md, "The
monthly run's fixed cost, second pass"). Here each database file keeps its engine, hence its
compiled statements. The files are the ones `storage: sqlite` writes: an instance can switch
between the two.

A run's own file is still opened per use and closed after it (`NullPool`): closing the last
connection folds SQLite's write-ahead log into the file, and that change is what the UI's live
log watches for. The index file (every run's asset and check events, read by queries, not
watched) keeps its connections open instead, which saves that checkpoint and its fsyncs on
each of those events; SQLite's locks are per transaction, so the UI, the daemon and other runs
still read and write it as before.

Batches of events (a run's planned materialisations and checks, about 440 per monthly run) go
to each file in one transaction; the storage asks Dagster for them (DAGSTER_EVENT_BATCH_SIZE).

`dagster.yaml` selects it as `storage: custom:` with the same `base_dir`.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import sqlalchemy as sa
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    SqliteStorageConfig,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.pool import NullPool, QueuePool

# SQLite's wait for a lock held by another process, as Dagster sets it.
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Engines kept at once: a run writes to its own shard and the index; a long-lived UI or daemon
# process reads many runs' shards over time, so the least recently used engine is dropped.
MAX_ENGINES = 32
# Events Dagster gathers before it hands them to `store_event_batch` (a run's planned events are
# one batch; a larger batch is handed over in parts of this size).
EVENT_BATCH_SIZE_VARIABLE = "DAGSTER_EVENT_BATCH_SIZE"
EVENT_BATCH_SIZE = 1000


class _Engines:
    """SQLAlchemy engines by connection string, least recently used dropped beyond a bound."""

    def __init__(self) -> None:
        self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conn_string: str, keep_connections: bool = False) -> sa.Engine:
        with self._lock:
            engine = self._engines.pop(conn_string, None)
            if engine is None and keep_connections:
                engine = create_engine(conn_string, poolclass=QueuePool, pool_size=1,
                                       max_overflow=4, connect_args={
                                           "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                           "check_same_thread": False})
            elif engine is None:
                engine = create_engine(conn_string, poolclass=NullPool,
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            self._engines[conn_string] = engine
            while len(self._engines) > MAX_ENGINES:
                self._engines.popitem(last=False)[1].dispose()
            return engine

    def dispose(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


class _KeepsEngines:
    """Gives a Dagster SQLite storage its engines, made before the storage's own set-up (which
    may already connect) and disposed with it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._engines = _Engines()
        super().__init__(*args, **kwargs)

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]
        self._engines.dispose()


class EngineKeepingSqliteEventLogStorage(_KeepsEngines, SqliteEventLogStorage):
    """Event log in one SQLite file per run plus an index file, as `SqliteEventLogStorage`,
    with batches of events (`store_event_batch`) written in one transaction per file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._batch = threading.local()
        super().__init__(*args, **kwargs)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        batch: dict[str, sa.Connection] | None = getattr(self._batch, "connections", None)
        if batch is not None:  # the batch's lock is held; its transactions end with it
            if shard not in batch:
                batch[shard] = self._batch.stack.enter_context(self._transaction(shard))
            yield batch[shard]
            return
        with self._db_lock, self._transaction(shard) as conn:
            yield conn

    @contextmanager
    def _transaction(self, shard: str) -> Iterator[sa.Connection]:
        engine = self._engines.get(self.conn_string_for_shard(shard),
                                   keep_connections=shard == INDEX_SHARD_NAME)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        with engine.connect() as conn, conn.begin():
            yield conn

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Each event stored as `store_event` stores it, all in one transaction per file: a
        run's planned materialisations and checks (one per dbt model and test, about 440 per
        monthly run) then cost one commit instead of two each. On an error nothing of the
        batch is kept, and Dagster stores its events one by one instead."""
        with self._db_lock, ExitStack() as stack:
            self._batch.stack, self._batch.connections = stack, {}
            try:
                for event in events:
                    self.store_event(event)
            finally:
                del self._batch.stack, self._batch.connections

    def has_table(self, table_name: str) -> bool:
        """As Dagster's, on the index file's kept engine: asked again for every asset check
        event, and a new engine each time cost more than the question."""
        engine = self._engines.get(self.conn_string_for_shard(INDEX_SHARD_NAME),
                                   keep_connections=True)
        with engine.connect() as conn:
            return bool(engine.dialect.has_table(conn, table_name))


class EngineKeepingSqliteRunStorage(_KeepsEngines, SqliteRunStorage):
    """Runs in one SQLite file, as `SqliteRunStorage`."""

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        with self._engines.get(self._conn_string).connect() as conn, conn.begin():
            yield conn


class EngineKeepingSqliteStorage(DagsterSqliteStorage):
    """`storage: sqlite` with the run and event log storages above (schedules unchanged: a few
    statements per tick)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        # Dagster hands events to `store_event_batch` only when this is above 0 (its default):
        # the planned events of a run, and a partitioned asset's materialisations, are batches.
        os.environ.setdefault(EVENT_BATCH_SIZE_VARIABLE, str(EVENT_BATCH_SIZE))
        # DagsterSqliteStorage's own set-up, with these classes: its __init__ would first open
        # and check (alembic) the plain run and event storages only for them to be replaced.
        self.base_dir = base_dir
        self._run_storage = EngineKeepingSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = EngineKeepingSqliteEventLogStorage(
            _event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        DagsterStorage.__init__(self)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData, config_value: SqliteStorageConfig
    ) -> EngineKeepingSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
