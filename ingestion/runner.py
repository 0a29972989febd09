"""The landing runner: lands each page of a connector durably, then advances its cursor."""

from __future__ import annotations

import time
from typing import Any

from ingestion.contract import EntityPull
from ingestion.landing import CursorStore, LandingStore, LoadWriter


class EntityLoad:
    """Lands the pages of one entity and keeps the figures of its pull."""

    def __init__(self, store: LandingStore, cursors: CursorStore, source: str, entity: str):
        self.writer: LoadWriter = store.new_load(source, entity)
        self.cursors = cursors
        self.source, self.entity = source, entity
        self.pull = EntityPull(
            load_id=self.writer.load_id, cursor_before=cursors.get(source, entity)
        )
        self.started = time.perf_counter()

    def land(
        self,
        body: bytes,
        *,
        endpoint: str,
        params: dict,
        records_path: str | None,
        count: int,
        extra: dict | None = None,
        window: dict | None = None,
        status: str = "ok",
        error: str | None = None,
        fmt: str = "json",
        record_extras: list[dict[str, Any]] | None = None,
    ) -> None:
        self.writer.land(
            body,
            request={
                "method": "GET",
                "endpoint": endpoint,
                "params": params,
                "window": window or {},
            },
            records_path=records_path,
            record_count=count,
            extra=extra,
            status=status,
            error=error,
            fmt=fmt,
            record_extras=record_extras,
        )
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
