"""Matomo Reporting API: Live.getLastVisitsDetails per local day, paged, with late data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ingestion.contract import EntityDeclaration, Page, Pages, SourceContext, SourceDeclaration
from ingestion.http import SourceError

PAGE_SIZE = 1000
LATE_DAYS = 3  # days re-pulled on every run, for visits Matomo records late


def _days(start_date: date, timezone: str, cursor: dict | None, now: datetime) -> list[date]:
    today = now.astimezone(ZoneInfo(timezone)).date()
    first = start_date
    if cursor and cursor.get("last_day"):
        first = max(first, date.fromisoformat(cursor["last_day"]) - timedelta(days=LATE_DAYS - 1))
    return [first + timedelta(days=i) for i in range((today - first).days)]


def pages(ctx: SourceContext) -> Pages:
    """Each local day's visits, page by page; the cursor moves on with a day's last page."""
    path = "/index.php"
    site, token = ctx.credentials.get("MATOMO_SITE_ID"), ctx.credentials.get("MATOMO_TOKEN")
    for day in _days(ctx.start_date, ctx.timezone, ctx.cursors["visits"], ctx.now):
        offset = 0
        while True:
            params = {
                "module": "API",
                "method": "Live.getLastVisitsDetails",
                "idSite": site,
                "period": "day",
                "date": day.isoformat(),
                "format": "JSON",
                "filter_limit": PAGE_SIZE,
                "filter_offset": offset,
            }
            doc, body = ctx.client.request_json(
                "POST",
                path,
                data={**params, "token_auth": token},
                entity="visits",
                records_path=None,
                public_params=params,
            )
            if isinstance(doc, dict) and doc.get("result") == "error":
                raise SourceError(
                    f"matomo: {path} ({params['method']}, {day}) returned an "
                    f"error: {doc.get('message')}. Check MATOMO_TOKEN has view "
                    "access to MATOMO_SITE_ID."
                )
            last = len(doc) < PAGE_SIZE
            yield Page(
                "visits",
                body,
                path,
                params,
                records_path=None,
                record_count=len(doc),
                window={"start": day.isoformat(), "end": day.isoformat()},
                cursor={"last_day": day.isoformat()} if last else None,
            )
            if last:
                break
            offset += PAGE_SIZE


SOURCE = SourceDeclaration(
    name="matomo",
    label="Matomo (web analytics)",
    description="Matomo Live.getLastVisitsDetails per local day, re-pulling recent days for "
    "late data.",
    entities=(EntityDeclaration("visits", "record->>'$.idVisit'"),),
    variables=("MATOMO_BASE_URL", "MATOMO_SITE_ID", "MATOMO_TOKEN"),
    secrets=frozenset({"MATOMO_TOKEN"}),
    base_url_variable="MATOMO_BASE_URL",
    credentials_hint="MATOMO_TOKEN (a token with view access to MATOMO_SITE_ID)",
    connector=pages,
)
