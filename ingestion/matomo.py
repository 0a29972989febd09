"""Matomo Reporting API: Live.getLastVisitsDetails per local day, paged, with late data."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ingestion.contract import EntityPull
from ingestion.http import HttpClient, SourceError
from ingestion.landing import CursorStore, LandingStore
from ingestion.runner import EntityLoad
from ingestion.settings import Settings, SourceCredentials

PAGE_SIZE = 1000
LATE_DAYS = 3  # days re-pulled on every run, for visits Matomo records late


def _days(settings: Settings, cursor: dict | None, now: datetime | None) -> list[date]:
    today = (now or datetime.now(ZoneInfo(settings.timezone))).astimezone(
        ZoneInfo(settings.timezone)).date()
    first = settings.start_date
    if cursor and cursor.get("last_day"):
        first = max(first, date.fromisoformat(cursor["last_day"]) - timedelta(days=LATE_DAYS - 1))
    return [first + timedelta(days=i) for i in range((today - first).days)]


def pull(credentials: SourceCredentials, settings: Settings, log: logging.Logger, *,
         now: datetime | None = None) -> dict[str, EntityPull]:
    client = HttpClient("matomo", credentials.get("MATOMO_BASE_URL"),
                        "MATOMO_TOKEN (a token with view access to MATOMO_SITE_ID)", log=log)
    load = EntityLoad(LandingStore(settings.data_dir), CursorStore(settings.data_dir),
                      "matomo", "visits")
    path = "/index.php"
    for day in _days(settings, load.pull.cursor_before, now):
        offset = 0
        while True:
            params = {"module": "API", "method": "Live.getLastVisitsDetails",
                      "idSite": credentials.get("MATOMO_SITE_ID"), "period": "day",
                      "date": day.isoformat(), "format": "JSON", "filter_limit": PAGE_SIZE,
                      "filter_offset": offset}
            doc, body = client.request_json(
                "POST", path, data={**params, "token_auth": credentials.get("MATOMO_TOKEN")},
                writer=load.writer, records_path=None, public_params=params)
            if isinstance(doc, dict) and doc.get("result") == "error":
                raise SourceError(f"matomo: {path} ({params['method']}, {day}) returned an "
                                  f"error: {doc.get('message')}. Check MATOMO_TOKEN has view "
                                  "access to MATOMO_SITE_ID.")
            load.land(body, endpoint=path, params=params, records_path=None, count=len(doc),
                      window={"start": day.isoformat(), "end": day.isoformat()})
            if len(doc) < PAGE_SIZE:
                break
            offset += PAGE_SIZE
        load.advance({"last_day": day.isoformat()})
    return {"visits": load.finish(client.retries)}
