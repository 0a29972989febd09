"""When the connectors' page loops end, against servers that follow DESIGN.md section 4 but page
differently from the sandbox: empty pages in the middle, a missing `end_of_stream`, links that
name another host."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ingestion.contract import SourceContext
from ingestion.sources import kobo, zendesk

Answer = Callable[[str, dict[str, Any]], dict[str, Any]]


class ScriptedClient:
    """Answers each request from `answer(path, params)` and records what was asked."""

    def __init__(self, answer: Answer, base_url: str = "https://saypro.zendesk.com") -> None:
        self.answer = answer
        self.base_url = base_url
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def request_json(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                     **_: Any) -> tuple[Any, bytes]:
        self.asked.append((path, dict(params or {})))
        if len(self.asked) > 50:
            pytest.fail(f"the connector is still paging after 50 requests: {self.asked[-3:]}")
        doc = self.answer(path, dict(params or {}))
        return doc, json.dumps(doc).encode()


def _records(pages: list) -> list[Any]:
    return [r for page in pages for r in json.loads(page.body)[page.records_path]]


def test_zendesk_export_goes_on_after_an_empty_page_until_the_end_of_stream() -> None:
    script = {None: ([1], "c1", False), "c1": ([], "c2", False), "c2": ([2, 3], "c3", True)}

    def answer(path: str, params: dict[str, Any]) -> dict[str, Any]:
        records, after, end = script[params.get("cursor")]
        return {"tickets": [{"id": i} for i in records], "after_cursor": after,
                "end_of_stream": end}

    client = ScriptedClient(answer)
    pages = list(zendesk._cursor_export(client, "tickets", None, "/tickets.json", 0))
    assert [r["id"] for r in _records(pages)] == [1, 2, 3]
    assert pages[-1].cursor == {"cursor": "c3"}


@pytest.mark.parametrize("last_page", [
    {"after_cursor": None},  # no end_of_stream, no cursor
    {"after_cursor": "c1"},  # no end_of_stream, the same cursor again
])
def test_zendesk_export_stops_when_a_page_gives_no_new_cursor(last_page: dict) -> None:
    def answer(path: str, params: dict[str, Any]) -> dict[str, Any]:
        if "cursor" not in params:
            return {"users": [{"id": 1}], "after_cursor": "c1", "end_of_stream": False}
        return {"users": [{"id": 2}], **last_page}

    client = ScriptedClient(answer)
    pages = list(zendesk._cursor_export(client, "users", None, "/users.json", 0))
    assert [r["id"] for r in _records(pages)] == [1, 2]
    assert pages[-1].cursor == ({"cursor": "c1"} if last_page["after_cursor"] else None)
    assert len(client.asked) == 2


def test_zendesk_articles_are_asked_for_on_the_configured_host_only() -> None:
    def answer(path: str, params: dict[str, Any]) -> dict[str, Any]:
        page = int(parse_qs(urlsplit(path).query)["page"][0])
        following = {1: "https://saypro.zendesk.com/api/v2/help_center/articles.json?page=2",
                     2: "http://10.0.0.7:8080/api/v2/help_center/articles.json?page=3",
                     3: None}[page]
        return {"articles": [{"id": page}], "page": page, "next_page": following}

    client = ScriptedClient(answer)
    pages = list(zendesk._articles(client))
    assert [r["id"] for r in _records(pages)] == [1, 2, 3]
    assert [path for path, _ in client.asked] == [
        "/api/v2/help_center/articles.json?page=1&per_page=100",
        "https://saypro.zendesk.com/api/v2/help_center/articles.json?page=2",
        "/api/v2/help_center/articles.json?page=3",  # the client puts the configured host
    ]


def _kobo_context(client: ScriptedClient) -> SourceContext:
    return SourceContext(credentials=None, client=client,  # type: ignore[arg-type]
                         cursors={"registration": None}, start_date=date(2025, 1, 1),
                         timezone="Africa/Johannesburg", now=datetime(2025, 6, 1, tzinfo=UTC),
                         log=logging.getLogger("test"), landed=None)  # type: ignore[arg-type]


def _kobo_page(start: int, times: list[str], following: int | None) -> dict[str, Any]:
    link = (f"https://kf.example.org/api/v2/assets/a1/data/?format=json&limit=2&start={following}"
            if following is not None else None)
    return {"count": 3, "next": link, "previous": None,
            "results": [{"_id": start + i, "_submission_time": t} for i, t in enumerate(times)]}


def test_kobo_goes_on_after_an_empty_page_with_a_next_link() -> None:
    pages_by_start = {0: _kobo_page(0, [], 2), 2: _kobo_page(2, ["2025-03-02T10:00:00"], None)}
    client = ScriptedClient(lambda path, params: pages_by_start[params["start"]])
    pages = list(kobo._submissions(_kobo_context(client), "registration", "a1"))
    assert [r["_id"] for r in _records(pages)] == [2]
    assert pages[-1].cursor == {"submission_time": "2025-03-02T10:00:00"}


def test_kobo_stops_when_the_next_link_does_not_move_forward() -> None:
    client = ScriptedClient(lambda path, params: _kobo_page(0, ["2025-03-01T09:00:00"], 0))
    pages = list(kobo._submissions(_kobo_context(client), "registration", "a1"))
    assert len(pages) == 1 and pages[0].cursor == {"submission_time": "2025-03-01T09:00:00"}
