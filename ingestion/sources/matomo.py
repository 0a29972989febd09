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
    """Each local day's visits, page by page; the cursor moves on with a day's last page.

    A server may return fewer rows than `filter_limit` asks for (a cap on its side), so a short
    page ends the day only when it is shorter than a page this server has already given;
    otherwise the next offset is asked for, and an empty page ends the day. The offset moves
    on by the rows received (at most `filter_limit`: rows repeated because visits arrived
    while paging are not counted twice)."""
    path, http_method = "/index.php", "POST"  # the token travels in the form, not the URL
    site, token = ctx.credentials.get("MATOMO_SITE_ID"), ctx.credentials.get("MATOMO_TOKEN")
    largest_page = 0
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
                http_method,
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
            rows = min(len(doc), PAGE_SIZE)  # a page never holds more rows than asked for:
            # more are records repeated because visits arrived while paging
            last = not doc or rows < largest_page
            largest_page = max(largest_page, rows)
            yield Page(
                "visits",
                body,
                path,
                params,
                records_path=None,
                record_count=len(doc),
                window={"start": day.isoformat(), "end": day.isoformat()},
                cursor={"last_day": day.isoformat()} if last else None,
                method=http_method,
            )
            if last:
                break
            offset += rows


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
