"""KoboToolbox API v2: the registration and feedback forms' definitions (questions, groups and
choice lists, so answers can be checked against and labelled by the deployed form) and their
submissions, incremental on `_submission_time` (UTC)."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from ingestion.contract import EntityPull
from ingestion.http import HttpClient, SourceError
from ingestion.landing import CursorStore, LandingStore
from ingestion.runner import EntityLoad
from ingestion.settings import Settings, SourceCredentials

PAGE_SIZE = 1000
FORMS = {"registration": "KOBO_REGISTRATION_ASSET_UID", "feedback": "KOBO_FEEDBACK_ASSET_UID"}


def pull(credentials: SourceCredentials, settings: Settings, log: logging.Logger, *,
         now: datetime | None = None) -> dict[str, EntityPull]:
    client = HttpClient("kobo", credentials.get("KOBO_BASE_URL"),
                        "KOBO_TOKEN and the asset uids", log=log)
    client.session.headers["Authorization"] = f"Token {credentials.get('KOBO_TOKEN')}"
    store, cursors = LandingStore(settings.data_dir), CursorStore(settings.data_dir)
    out = {"forms": _pull_definitions(client, credentials, store, cursors)}
    for entity, uid_variable in FORMS.items():
        load = EntityLoad(store, cursors, "kobo", entity)
        since = (load.pull.cursor_before or {}).get("submission_time",
                                                    f"{settings.start_date}T00:00:00")
        path = f"/api/v2/assets/{credentials.get(uid_variable)}/data/"
        latest, start = since, 0
        while True:
            params = {"format": "json", "limit": PAGE_SIZE, "start": start,
                      "query": json.dumps({"_submission_time": {"$gt": since}})}
            doc, body = client.request_json("GET", path, params=params, writer=load.writer,
                                            records_path="results", public_params=params)
            results = doc.get("results", [])
            load.land(body, endpoint=path, params=params, records_path="results",
                      count=len(results))
            latest = max([latest, *(r.get("_submission_time", "") for r in results)])
            if not doc.get("next") or not results:
                break
            start = _next_start(doc["next"], start + len(results))
        load.advance({"submission_time": latest})
        out[entity] = load.finish(client.retries)
    return out


def _next_start(next_url: str, default: int) -> int:
    """The offset the server's `next` link asks for: a page may repeat records of the one
    before it (submissions arriving while paging), so its length does not say where the next
    page starts."""
    values = parse_qs(urlsplit(next_url).query).get("start")
    return int(values[0]) if values and values[0].isdigit() else default


def _pull_definitions(client: HttpClient, credentials: SourceCredentials, store: LandingStore,
                      cursors: CursorStore) -> EntityPull:
    """Each form's asset, pulled whole on every run (one small call): a redeployed form's new
    version replaces the old one in raw, keyed on the asset uid."""
    load = EntityLoad(store, cursors, "kobo", "forms")
    for uid_variable in FORMS.values():
        path = f"/api/v2/assets/{credentials.get(uid_variable)}/"
        params = {"format": "json"}
        doc, body = client.request_json("GET", path, params=params, writer=load.writer,
                                        records_path="$", public_params=params)
        if not isinstance(doc, dict) or "content" not in doc:
            raise SourceError(f"kobo: {path} did not return a form definition (no 'content'). "
                              f"Check {uid_variable} is the uid of a deployed survey asset.")
        load.land(body, endpoint=path, params=params, records_path="$", count=1)
    return load.finish(client.retries)
