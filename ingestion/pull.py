"""Pull one source: API when its variables are set, else its drop folder, else skip."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingestion.drop_folder import load_drop_folder
from ingestion.lake import check_lake, sync_warehouse
from ingestion.landing import CursorStore, LandingStore, LoadWriter
from ingestion.raw import ENTITIES, merge_loads, record_source_status
from ingestion.settings import Settings


@dataclass
class EntityPull:
    load_id: str | None = None
    pages: int = 0
    records: int = 0
    retries: int = 0
    rejected_pages: int = 0
    unreadable_records: int | None = None  # set aside in raw._unreadable_records
    calls: int | None = None  # API calls, where several land as one page (Moodle completions)
    skipped_calls: int | None = None  # calls not needed: statuses that cannot have changed
    cursor_before: Any = None
    cursor_after: Any = None
    duration_s: float = 0.0


@dataclass
class PullResult:
    source: str
    mode: str  # api | drop | skipped
    entities: dict[str, EntityPull] = field(default_factory=dict)
    merge_seconds: float = 0.0  # merging the new loads into the raw tables
    lake_seconds: float = 0.0  # writing the changed months of the raw tables to the lake

    def metadata(self) -> dict[str, Any]:
        """Flat, JSON-serialisable values for Dagster asset metadata."""
        out: dict[str, Any] = {"mode": self.mode, "merge_seconds": round(self.merge_seconds, 3),
                               "lake_seconds": round(self.lake_seconds, 3)}
        for entity, pull in self.entities.items():
            for key, value in vars(pull).items():
                if value is not None:
                    out[f"{entity}.{key}"] = value if isinstance(value, (int, float, str)) \
                        else str(value)
        return out


class EntityLoad:
    """Lands the pages of one entity and keeps the figures of its pull."""

    def __init__(self, store: LandingStore, cursors: CursorStore, source: str, entity: str):
        self.writer: LoadWriter = store.new_load(source, entity)
        self.cursors = cursors
        self.source, self.entity = source, entity
        self.pull = EntityPull(load_id=self.writer.load_id,
                               cursor_before=cursors.get(source, entity))
        self.started = time.perf_counter()

    def land(self, body: bytes, *, endpoint: str, params: dict, records_path: str | None,
             count: int, extra: dict | None = None, window: dict | None = None,
             status: str = "ok", error: str | None = None, fmt: str = "json",
             record_extras: list[dict[str, Any]] | None = None) -> None:
        self.writer.land(body, request={"method": "GET", "endpoint": endpoint, "params": params,
                                        "window": window or {}},
                         records_path=records_path, record_count=count, extra=extra,
                         status=status, error=error, fmt=fmt, record_extras=record_extras)
        self.pull.pages += 1
        if status == "ok":
            self.pull.records += count

    def advance(self, cursor: dict[str, Any]) -> None:
        """Record the cursor; called only after the page it covers has landed."""
        self.cursors.set(self.source, self.entity, cursor)
        self.pull.cursor_after = cursor

    def finish(self, retries: int = 0) -> EntityPull:
        self.pull.duration_s = round(time.perf_counter() - self.started, 3)
        self.pull.retries = retries
        self.pull.rejected_pages = self.writer.rejected
        if self.pull.pages == 0:
            self.pull.load_id = None
        return self.pull


def pull_source(source: str, settings: Settings, log: logging.Logger, *,
                now: datetime | None = None) -> PullResult:
    check_lake(settings.lake)
    credentials = settings.source(source)
    if credentials is not None:
        from ingestion import kobo, matomo, moodle, zendesk

        puller = {"zendesk": zendesk.pull, "matomo": matomo.pull, "moodle": moodle.pull,
                  "kobo": kobo.pull}[source]
        result = PullResult(source, "api", puller(credentials, settings, log, now=now))
    elif (folder := settings.drop_folder(source)) is not None:
        drop = load_drop_folder(folder, settings.data_dir, source)
        for error in drop.errors:
            log.error("%s drop folder: %s", source, error)
        for warning in drop.warnings:
            log.warning("%s drop folder: %s", source, warning)
        result = PullResult(source, "drop", {
            entity: EntityPull(load_id=load_id, records=drop.records_by_entity.get(entity, 0))
            for entity, load_id in drop.load_ids.items()})
    else:
        missing = ", ".join(settings.missing_variables(source))
        log.info("%s skipped: set %s (or put export files under $SAYPRO_DROP_DIR/%s/)",
                 source, missing, source)
        result = PullResult(source, "skipped")
    # A skipped source still gets its raw tables (empty, or with what landed before): any
    # subset of sources is a valid deployment, and staging reads every raw table.
    merge_started = time.perf_counter()
    for entity in (e for s, e in ENTITIES if s == source):
        pull = result.entities.get(entity)
        load_ids = [pull.load_id] if pull and pull.load_id else []
        merged = merge_loads(settings.warehouse, settings.data_dir, source, entity, load_ids)
        if merged.unreadable_records:
            result.entities.setdefault(entity, EntityPull()).unreadable_records = \
                merged.unreadable_records
            log.warning("%s %s: %d line(s) or part(s) of landed files cannot be read and are set "
                        "aside in raw._unreadable_records (file, line, reason); the other "
                        "records load, and the quality report counts them.", source, entity,
                        merged.unreadable_records)
        if merged.unreadable_files:
            log.error("%s: %d landed page(s) no longer parse as JSON and their records are "
                      "missing from %s (first: %s); they are marked 'unreadable' in "
                      "raw._landing_files. Restore the files from a backup, then run `saypro "
                      "rebuild-raw`.", source, len(merged.unreadable_files), merged.table,
                      merged.unreadable_files[0])
    result.merge_seconds = time.perf_counter() - merge_started
    record_source_status(settings.warehouse, source, result.mode)
    lake_started = time.perf_counter()
    sync_warehouse(settings.warehouse, settings.lake, [(s, e) for s, e in ENTITIES if s == source])
    result.lake_seconds = time.perf_counter() - lake_started
    if result.mode == "skipped":
        return result
    log.info("%s: %s", source, {k: v for k, v in result.metadata().items()
                                if k.endswith((".records", ".pages", ".retries"))})
    return result
