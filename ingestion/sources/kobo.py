"""KoboToolbox API v2: the registration and feedback forms' submissions, incremental on
`_submission_time` (UTC), and their definitions (questions, groups and choice lists, so answers
can be checked against and labelled by the deployed form) when the server gives them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from urllib.parse import parse_qs, urlsplit

from ingestion.contract import EntityDeclaration, Page, Pages, SourceContext, SourceDeclaration
from ingestion.http import RetriesExhaustedError, SourceError

PAGE_SIZE = 1000
FORMS = {"registration": "KOBO_REGISTRATION_ASSET_UID", "feedback": "KOBO_FEEDBACK_ASSET_UID"}


def pages(ctx: SourceContext) -> Pages:
    ctx.client.session.headers["Authorization"] = f"Token {ctx.credentials.get('KOBO_TOKEN')}"
    yield from _definitions(ctx)
    for entity, uid_variable in FORMS.items():
        yield from _submissions(ctx, entity, ctx.credentials.get(uid_variable))


def _submissions(ctx: SourceContext, entity: str, uid: str) -> Iterator[Page]:
    """A form's submissions since the cursor, page by page; the cursor (the latest submission
    time seen) moves on with the last page."""
    first = ctx.start_instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")  # UTC, as Kobo
    since = (ctx.cursors[entity] or {}).get("submission_time", first)
    path = f"/api/v2/assets/{uid}/data/"
    latest, start = since, 0
    while True:
        params = {
            "format": "json",
            "limit": PAGE_SIZE,
            "start": start,
            "query": json.dumps({"_submission_time": {"$gt": since}}),
        }
        doc, body = ctx.client.request_json(
            "GET", path, params=params, entity=entity, records_path="results", public_params=params
        )
        results = doc.get("results", [])
        latest = max([latest, *(r.get("_submission_time", "") for r in results)])
        # An empty page may still have a `next`: the pages go on until there is none, or
        # until one would not move forward.
        following = _next_start(doc["next"], start + len(results)) if doc.get("next") else None
        last = following is None or following <= start
        yield Page(
            entity,
            body,
            path,
            params,
            records_path="results",
            record_count=len(results),
            cursor={"submission_time": latest} if last else None,
            window={"start": since},  # exclusive: _submission_time > since (UTC)
        )
        if last:
            break
        start = following


def _next_start(next_url: str, default: int) -> int:
    """The offset the server's `next` link asks for: a page may repeat records of the one
    before it (submissions arriving while paging), so its length does not say where the next
    page starts."""
    values = parse_qs(urlsplit(next_url).query).get("start")
    return int(values[0]) if values and values[0].isdigit() else default


def _definitions(ctx: SourceContext) -> Iterator[Page]:
    """Each form's asset, pulled whole on every run (one small call): a redeployed form's new
    version replaces the old one in raw, keyed on the asset uid. The submissions are the
    contract (DESIGN.md section 4), the definitions an addition: a server that does not give
    one (no such endpoint, not allowed, another document) gives none, with a warning, and
    the answers are then neither checked against nor labelled by the form. A refused token
    (401) stops the pull as it would on the data endpoint, and transient failures past the
    retries end it for the orchestrator to run again, as on any other call."""
    for uid_variable in FORMS.values():
        path = f"/api/v2/assets/{ctx.credentials.get(uid_variable)}/"
        params = {"format": "json"}
        try:
            doc, body = ctx.client.request_json(
                "GET", path, params=params, entity="forms", records_path="$",
                public_params=params
            )
        except SourceError as exc:
            if exc.status == 401 or isinstance(exc, RetriesExhaustedError):
                raise  # a refused token, or a server failing for now: the pull runs again
            _no_definition(ctx, path, str(exc))
            continue
        if not isinstance(doc, dict) or "content" not in doc:
            _no_definition(ctx, path, "the answer is not a form definition (no 'content')")
            continue
        yield Page("forms", body, path, params, records_path="$", record_count=1)


def _no_definition(ctx: SourceContext, path: str, why: str) -> None:
    ctx.log.warning(
        "kobo: no form definition from %s (%s): answers are not checked against its choices; "
        "the submissions are pulled from its data endpoint. If the form is deployed there, "
        "check that the token may view the asset.", path, why)


SOURCE = SourceDeclaration(
    name="kobo",
    label="KoboToolbox (surveys)",
    description="KoboToolbox API v2: registration and feedback submissions, incremental on "
    "_submission_time.",
    entities=(
        EntityDeclaration("registration", "record->>'$._id'", list_key="results"),
        EntityDeclaration("feedback", "record->>'$._id'", list_key="results"),
        EntityDeclaration("forms", "record->>'$.uid'"),
    ),
    variables=(
        "KOBO_BASE_URL",
        "KOBO_TOKEN",
        "KOBO_REGISTRATION_ASSET_UID",
        "KOBO_FEEDBACK_ASSET_UID",
    ),
    secrets=frozenset({"KOBO_TOKEN"}),
    base_url_variable="KOBO_BASE_URL",
    credentials_hint="KOBO_TOKEN and the asset uids",
    connector=pages,
)
