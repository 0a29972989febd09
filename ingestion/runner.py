"""The landing runner: lands each page of a connector durably, then advances its cursor."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from ingestion.connection import connect
from ingestion.contract import (
    CallCount,
    EntityPull,
    Page,
    SourceContext,
    SourceCredentials,
    SourceDeclaration,
)
from ingestion.http import HttpClient, RejectedBody
from ingestion.landing import CursorStore, LandingStore
from ingestion.raw import table_name
from ingestion.settings import Settings


class _Landing:
    """One entity's load during a run: its writer and the figures of its pull."""

    def __init__(self, store: LandingStore, cursors: CursorStore, source: str, entity: str):
        self.writer = store.new_load(source, entity)
        self.cursors = cursors
        self.pull = EntityPull(
            load_id=self.writer.load_id, cursor_before=cursors.get(source, entity)
        )

    def land(self, page: Page) -> None:
        """Land the page durably, then save the cursor it carries."""
        self.writer.land(
            page.body,
            request={
                "method": page.method,
                "endpoint": page.endpoint,
                "params": page.params,
                "window": page.window or {},
            },
            records_path=page.records_path,
            record_count=page.record_count,
            extra=page.extra,
            status=page.status,
            error=page.error,
            fmt=page.fmt,
            record_extras=page.record_extras,
        )
        self.pull.pages += 1
        if page.status == "ok":
            self.pull.records += page.record_count
        if page.cursor is not None:
            self.cursors.set(self.writer.source, self.writer.entity, page.cursor)
            self.pull.cursor_after = page.cursor

    def land_rejected(self, rejected: RejectedBody) -> None:
        self.writer.land(
            rejected.body,
            request=rejected.request,
            records_path=rejected.records_path,
            record_count=0,
            extra=rejected.extra,
            status="rejected",
            error=rejected.error,
        )

    def finish(self, counts: CallCount | None) -> EntityPull:
        self.pull.duration_s = round(self.pull.duration_s, 3)
        self.pull.rejected_pages = self.writer.rejected
        if counts is not None:
            self.pull.calls, self.pull.skipped_calls = counts.calls, counts.skipped_calls
        if self.pull.pages == 0:
            self.pull.load_id = None
        return self.pull


def run_connector(
    declaration: SourceDeclaration,
    credentials: SourceCredentials,
    settings: Settings,
    log: logging.Logger,
    *,
    now: datetime | None = None,
) -> dict[str, EntityPull]:
    """Run a source's connector: land each page it yields durably, then save the cursor the
    page carries. The HTTP layer's retries and the time since the previous page are the
    entity's of the next page; bodies that are not JSON land as rejected pages."""
    source = declaration.name
    store, cursors = LandingStore(settings.data_dir), CursorStore(settings.data_dir)
    loads = {e: _Landing(store, cursors, source, e) for e in declaration.entity_names}
    client = HttpClient(
        source,
        credentials.get(declaration.base_url_variable),
        declaration.credentials_hint,
        log=log,
    )

    client.on_rejected = lambda rejected: loads[rejected.entity].land_rejected(rejected)
    ctx = SourceContext(
        credentials=credentials,
        client=client,
        cursors={e: load.pull.cursor_before for e, load in loads.items()},
        start_date=settings.start_date,
        timezone=settings.timezone,
        now=now or datetime.now(UTC),
        log=log,
        landed=partial(query_landed, settings.warehouse, source),
    )
    pages = declaration.connector(ctx)
    counts: Mapping[str, CallCount] = {}
    retries, mark = client.retries, time.perf_counter()
    try:
        while True:
            try:
                page = next(pages)
            except StopIteration as stop:
                counts = stop.value or {}
                break
            load = loads[page.entity]
            load.land(page)
            load.pull.retries += client.retries - retries
            load.pull.duration_s += time.perf_counter() - mark
            retries, mark = client.retries, time.perf_counter()
    finally:
        pages.close()  # a failed landing ends the connector too (its worker pools, sessions)
    return {entity: load.finish(counts.get(entity)) for entity, load in loads.items()}


def query_landed(warehouse: Path, source: str, entity: str, select: str) -> list[tuple[Any, ...]]:
    """Rows of `select` over `records (record_key, record)`: the latest landed version of each
    record of the entity whose key validation has never set aside (`quality.quarantine`).
    Empty before the first pull."""
    if not warehouse.exists():
        return []
    table = table_name(source, entity)
    with connect(warehouse) as con:
        tables = {
            row[0]
            for row in con.execute(
                "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                "WHERE schema_name || '.' || table_name IN (?, 'quality.quarantine')",
                [table],
            ).fetchall()
        }
        if table not in tables:
            return []
        set_aside = (
            ""
            if "quality.quarantine" not in tables
            else """
            WHERE NOT EXISTS (SELECT 1 FROM quality.quarantine AS q
                              WHERE q.source = $source AND q.entity = $entity
                                AND q.record_key = r.record_key)"""
        )
        return con.execute(
            f"WITH records AS (SELECT r.record_key, r.record FROM {table} AS r {set_aside}) "
            f"{select}",
            {"source": source, "entity": entity} if set_aside else {},
        ).fetchall()
