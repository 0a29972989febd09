"""Zendesk Support API: incremental exports of tickets, users and ticket events; articles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ingestion.contract import EntityDeclaration, Page, Pages, SourceContext, SourceDeclaration
from ingestion.http import HttpClient


def _iso(unix: int | str) -> str:
    """A Zendesk unix time as the landing metadata's window bound (UTC, ISO 8601)."""
    return datetime.fromtimestamp(int(unix), UTC).isoformat()


def _cursor_export(
    client: HttpClient, entity: str, cursor_before: dict | None, path: str, start_time: int
) -> Iterator[Page]:
    """Cursor-based incremental export: start_time first, then after_cursor until
    `end_of_stream`. A page without records may still be followed by more; a page that gives
    no new cursor ends the pull too (nothing further can be asked for)."""
    cursor = (cursor_before or {}).get("cursor")
    while True:
        params: dict[str, Any] = {"cursor": cursor} if cursor else {"start_time": start_time}
        doc, body = client.request_json(
            "GET", path, params=params, entity=entity, records_path=entity, public_params=params
        )
        after = doc.get("after_cursor")
        moved_on = bool(after) and after != cursor
        if after:
            cursor = after
        yield Page(
            entity,
            body,
            path,
            params,
            records_path=entity,
            record_count=len(doc[entity]),
            cursor={"cursor": cursor} if after else None,
            window=None if "cursor" in params else {"start": _iso(start_time)},
        )
        if doc.get("end_of_stream") or not moved_on:
            break


def _ticket_events(
    client: HttpClient, cursor_before: dict | None, start_time: int
) -> Iterator[Page]:
    """Time-based export: pages may repeat events at the boundary; raw dedupes on event id."""
    path = "/api/v2/incremental/ticket_events.json"
    start = (cursor_before or {}).get("start_time", start_time)
    while True:
        params = {"start_time": start, "include": "comment_events"}
        doc, body = client.request_json(
            "GET",
            path,
            params=params,
            entity="ticket_events",
            records_path="ticket_events",
            public_params=params,
        )
        end_time = doc.get("end_time")
        yield Page(
            "ticket_events",
            body,
            path,
            params,
            records_path="ticket_events",
            record_count=len(doc["ticket_events"]),
            cursor={"start_time": int(end_time)} if end_time else None,
            window={"start": _iso(start), **({"end": _iso(end_time)} if end_time else {})},
        )
        if doc.get("end_of_stream") or not end_time or int(end_time) <= int(start):
            break
        start = int(end_time)


def _articles(client: HttpClient) -> Iterator[Page]:
    """Help-centre articles page by page, following `next_page` until it is null. The
    credentials go to the configured host only: a `next_page` naming another one (a proxy's
    or a load balancer's name for the same server) is asked for on the configured host."""
    url: str | None = "/api/v2/help_center/articles.json?page=1&per_page=100"
    while url:
        doc, body = client.request_json("GET", url, entity="articles", records_path="articles")
        yield Page(
            "articles",
            body,
            "/api/v2/help_center/articles.json",
            {"page": doc.get("page")},
            records_path="articles",
            record_count=len(doc["articles"]),
        )
        url = _on_configured_host(doc.get("next_page"), client.base_url)


def _on_configured_host(url: str | None, base_url: str) -> str | None:
    """`url` as is on the configured host, else its path and query (asked on that host)."""
    if not url:
        return None
    link, base = urlsplit(url), urlsplit(base_url)
    if (link.scheme, link.netloc) in {("", ""), (base.scheme, base.netloc)}:
        return url
    return urlunsplit(("", "", link.path, link.query, ""))


def pages(ctx: SourceContext) -> Pages:
    client = ctx.client
    client.session.auth = (
        f"{ctx.credentials.get('ZENDESK_EMAIL')}/token",
        ctx.credentials.get("ZENDESK_API_TOKEN"),
    )
    start = int(ctx.start_instant.timestamp())
    # users are reference data (agents predate the start date): always from the beginning
    yield from _cursor_export(
        client, "users", ctx.cursors["users"], "/api/v2/incremental/users/cursor.json", 0
    )
    yield from _cursor_export(
        client, "tickets", ctx.cursors["tickets"], "/api/v2/incremental/tickets/cursor.json", start
    )
    yield from _ticket_events(client, ctx.cursors["ticket_events"], start)
    yield from _articles(client)


SOURCE = SourceDeclaration(
    name="zendesk",
    label="Zendesk (helpdesk)",
    description="Zendesk Support API: incremental cursor export of tickets and users, "
    "time-based ticket events with comments, help-centre articles.",
    entities=(
        EntityDeclaration("tickets", "record->>'$.id'", list_key="tickets"),
        EntityDeclaration("ticket_events", "record->>'$.id'", list_key="ticket_events"),
        EntityDeclaration("users", "record->>'$.id'", list_key="users"),
        EntityDeclaration("articles", "record->>'$.id'", list_key="articles"),
    ),
    variables=("ZENDESK_BASE_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"),
    secrets=frozenset({"ZENDESK_API_TOKEN"}),
    base_url_variable="ZENDESK_BASE_URL",
    credentials_hint="ZENDESK_EMAIL and ZENDESK_API_TOKEN (and that API token access is enabled)",
    connector=pages,
)
