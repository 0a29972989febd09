"""Pull one source: its drop folder when there is one, else its API when its variables are
set, else skip."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from ingestion.connection import connect
from ingestion.contract import EntityPull, PullResult
from ingestion.drop_folder import load_drop_folder
from ingestion.lake import Lake, check_lake, sync_tables
from ingestion.raw import RawBuildResult, merge_loads, record_source_status
from ingestion.runner import run_connector
from ingestion.settings import Settings
from ingestion.sources import SOURCES, entities_of


def pull_source(source: str, settings: Settings, log: logging.Logger, *,
                now: datetime | None = None) -> PullResult:
    lake = Lake.of(settings)
    check_lake(lake)
    # A source's drop folder, when there is one, is read instead of its API (DESIGN.md
    # section 3: "if set, sources are read from export files ... instead of the APIs").
    if (folder := settings.drop_folder(source)) is not None:
        drop = load_drop_folder(folder, settings.data_dir, source)
        for error in drop.errors:
            log.error("%s drop folder: %s", source, error)
        for warning in drop.warnings:
            log.warning("%s drop folder: %s", source, warning)
        result = PullResult(source, "drop", {
            entity: EntityPull(load_id=load_id, records=drop.records_by_entity.get(entity, 0))
            for entity, load_id in drop.load_ids.items()})
    elif (credentials := settings.source(source)) is not None:
        result = PullResult(source, "api", run_connector(SOURCES[source], credentials,
                                                         settings, log, now=now))
    else:
        missing = ", ".join(settings.missing_variables(source))
        log.info("%s skipped: set %s (or put export files under $SAYPRO_DROP_DIR/%s/)",
                 source, missing, source)
        result = PullResult(source, "skipped")
    # A skipped source still gets its raw tables (empty, or with what landed before): any
    # subset of sources is a valid deployment, and staging reads every raw table. One
    # connection for the source's merges, status and lake: each open and close of the
    # warehouse costs 20 to 40 ms (closing checkpoints it).
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with connect(settings.warehouse) as con:
        merge_started = time.perf_counter()
        for entity in entities_of(source):
            pull = result.entities.get(entity)
            load_ids = [pull.load_id] if pull and pull.load_id else []
            merged = merge_loads(con, settings.data_dir, source, entity, load_ids)
            _report_unreadable(result, entity, merged, log)
        result.merge_seconds = time.perf_counter() - merge_started
        record_source_status(con, source, result.mode)
        lake_started = time.perf_counter()
        sync_tables(con, lake, [(source, e) for e in entities_of(source)])
        result.lake_seconds = time.perf_counter() - lake_started
    if result.mode == "skipped":
        return result
    log.info("%s: %s", source, {k: v for k, v in result.metadata().items()
                                if k.endswith((".records", ".pages", ".retries"))})
    return result


def _report_unreadable(result: PullResult, entity: str, merged: RawBuildResult,
                       log: logging.Logger) -> None:
    """Count and log what a merge could not read (it stays in the landing files)."""
    source = result.source
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
