"""Loopback emulators of the Zendesk, Matomo, Moodle and KoboToolbox APIs over sample data.

Each vendor is a werkzeug WSGI app on its own port, speaking the documented endpoints with
their pagination, cursors, incremental filters, authentication and error bodies, plus
switchable faults (`FaultPlan`) that count down so a retried request succeeds. Faults are set
from Python (`handle.faults("zendesk").set(...)`) or over HTTP (`POST /__sandbox/faults`).
Matomo visits are read one day file at a time; the other entities are small enough to index
in memory at demo scales.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

CREDENTIALS = {
    "zendesk_email": "demo@saypro.online", "zendesk_token": "zd-demo-token",
    "matomo_token": "mt-demo-token", "matomo_site": "1", "moodle_token": "md-demo-token",
    "kobo_token": "kb-demo-token", "kobo_registration_uid": "aRegSayPro2025",
    "kobo_feedback_uid": "aFbSayPro2025",
}
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
FAULTS = ("rate_limit_burst", "server_error", "timeout", "truncated_json", "malformed_json",
          "repeat_page", "schema_drift", "auth_failure", "slow")


@dataclass
class FaultPlan:
    """Counters of faults still to inject; `slow` and `timeout` hold seconds in `delay`."""

    counts: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    drift: str = "new_field"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, fault: str, count: int = 1, *, delay: float = 0.0,
            drift: str = "new_field") -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {FAULTS}")
        with self.lock:
            self.counts[fault] = count
            self.delay, self.drift = delay or self.delay, drift

    def take(self, fault: str) -> bool:
        with self.lock:
            left = self.counts.get(fault, 0)
            if left <= 0:
                return False
            self.counts[fault] = left - 1
            return True

    def clear(self) -> None:
        with self.lock:
            self.counts.clear()
            self.delay = 0.0


def _read_jsonl(folder: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        records.extend(orjson.loads(line) for line in path.read_bytes().splitlines() if line)
    return records


def _json(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(doc), status=status, headers=headers,
                    content_type="application/json")


class VendorApp:
    """Common fault handling around a vendor's request handler."""

    name = "vendor"

    def __init__(self, data: Path, latency: float = 0.0) -> None:
        self.data = data
        self.faults = FaultPlan()
        self.latency = latency
        self.last_page: dict[str, bytes] = {}

    def handle(self, request: Request) -> Response:  # pragma: no cover - overridden
        raise NotImplementedError

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        if request.path == "/__sandbox/faults" and request.method == "POST":
            body = request.get_json(force=True)
            if body.get("clear"):
                self.faults.clear()
            else:
                self.faults.set(body["fault"], int(body.get("count", 1)),
                                delay=float(body.get("delay", 0)),
                                drift=body.get("drift", "new_field"))
            return _json({"ok": True})(environ, start_response)
        return self._faulty(request)(environ, start_response)

    def _faulty(self, request: Request) -> Response:
        plan = self.faults
        if self.latency:
            time.sleep(self.latency)
        if plan.counts.get("slow"):
            time.sleep(plan.delay or 1.0)
        if plan.take("timeout"):
            time.sleep(plan.delay or 40.0)
        if plan.take("rate_limit_burst"):
            return _json({"error": "TooManyRequests"}, 429, {"Retry-After": "1"})
        if plan.take("server_error"):
            return _json({"error": "InternalError"}, 503)
        if plan.counts.get("auth_failure"):
            return self.auth_error()
        response = self.handle(request)
        if response.status_code != 200:
            return response
        body = response.get_data()
        if request.path in self.last_page and plan.take("repeat_page"):
            body = self.last_page[request.path]  # the previous page of this endpoint again
        self.last_page[request.path] = response.get_data()
        if plan.take("schema_drift"):
            body = self._drift(body, plan.drift)
        if plan.take("truncated_json"):
            body = body[: len(body) // 2]
        elif plan.take("malformed_json"):
            body = b"<html>Bad gateway</html>" + body[:20]
        response.set_data(body)
        return response

    @staticmethod
    def _drift(body: bytes, kind: str) -> bytes:
        doc = orjson.loads(body)
        items = doc if isinstance(doc, list) else next(
            (v for v in doc.values() if isinstance(v, list)), [])
        for item in items[:1]:
            if kind == "new_field":
                item["added_by_vendor_upgrade"] = {"nested": True}
            elif kind == "missing_field":
                item.pop(next(k for k in item if k not in ("id", "idVisit", "_id")), None)
            elif kind == "changed_type":
                for key in ("id", "idVisit", "_id"):
                    if key in item:
                        item[key] = str(item[key])
        return orjson.dumps(doc)

    def auth_error(self) -> Response:
        return _json({"error": "Unauthorized"}, 401)


class ZendeskApp(VendorApp):
    name = "zendesk"
    page_size = 1000

    def __init__(self, data: Path, latency: float = 0.0) -> None:
        super().__init__(data, latency)
        root = data / "zendesk"
        self.tickets = sorted(_read_jsonl(root / "tickets"),
                              key=lambda t: (t["updated_at"], t["id"]))
        self.users = sorted(_read_jsonl(root / "users"), key=lambda u: (u["updated_at"], u["id"]))
        self.events = sorted(_read_jsonl(root / "ticket_events"),
                             key=lambda e: (e["timestamp"], e["id"]))
        self.articles = sorted(_read_jsonl(root / "articles"), key=lambda a: a["id"])

    def auth_error(self) -> Response:
        return _json({"error": "Couldn't authenticate you"}, 401)

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, token = base64.b64decode(header[6:]).decode().partition(":")
        return (user == f"{CREDENTIALS['zendesk_email']}/token"
                and token == CREDENTIALS["zendesk_token"])

    def handle(self, request: Request) -> Response:
        if not self._authorised(request):
            return self.auth_error()
        path, args = request.path, request.args
        horizon = int(time.time()) - 60  # incremental exports exclude the last minute
        if path == "/api/v2/incremental/tickets/cursor.json":
            return self._cursor_page(request, self.tickets, "tickets", horizon)
        if path == "/api/v2/incremental/users/cursor.json":
            return self._cursor_page(request, self.users, "users", horizon)
        if path == "/api/v2/incremental/ticket_events.json":
            start = int(args.get("start_time", 0))
            stamps = [e["timestamp"] for e in self.events]
            from bisect import bisect_left
            i = bisect_left(stamps, start)
            page = [e for e in self.events[i:i + self.page_size] if e["timestamp"] < horizon]
            end_of_stream = i + self.page_size >= len(self.events)
            end_time = page[-1]["timestamp"] if page else start
            # like Zendesk, the next page starts at the last event's second: repeats happen
            return _json({"ticket_events": page, "count": len(page), "end_time": end_time,
                          "end_of_stream": end_of_stream,
                          "next_page": None if end_of_stream else
                          f"{request.host_url}api/v2/incremental/ticket_events.json?"
                          + urlencode({"start_time": end_time, "include": "comment_events"})})
        if path == "/api/v2/help_center/articles.json":
            page, per = int(args.get("page", 1)), min(int(args.get("per_page", 100)), 100)
            items = self.articles[(page - 1) * per: page * per]
            pages = max(1, -(-len(self.articles) // per))
            return _json({"articles": items, "page": page, "page_count": pages,
                          "count": len(self.articles),
                          "next_page": f"{request.host_url}api/v2/help_center/articles.json?"
                          f"page={page + 1}&per_page={per}" if page < pages else None})
        return _json({"error": "InvalidEndpoint"}, 404)

    def _cursor_page(self, request: Request, items: list[dict], key: str,
                     horizon: int) -> Response:
        args = request.args
        if "cursor" in args:
            offset = int(base64.urlsafe_b64decode(args["cursor"]).decode())
        else:
            start = datetime.fromtimestamp(int(args.get("start_time", 0)), UTC)
            stamp = start.strftime("%Y-%m-%dT%H:%M:%SZ")
            offset = next((i for i, t in enumerate(items) if t["updated_at"] >= stamp),
                          len(items))
        per = min(int(args.get("per_page", self.page_size)), 1000)
        horizon_stamp = datetime.fromtimestamp(horizon, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        page = [t for t in items[offset:offset + per] if t["updated_at"] < horizon_stamp]
        after = offset + len(page)
        cursor = base64.urlsafe_b64encode(str(after).encode()).decode()
        end = after >= len(items)
        return _json({key: page, "after_cursor": cursor,
                      "before_cursor": base64.urlsafe_b64encode(str(offset).encode()).decode(),
                      "after_url": f"{request.base_url}?cursor={cursor}", "end_of_stream": end})


class MatomoApp(VendorApp):
    name = "matomo"

    def auth_error(self) -> Response:
        return _json({"result": "error", "message": "You can't access this resource as it "
                      "requires 'view' access for the website id = 1."})

    def handle(self, request: Request) -> Response:
        form = request.form
        if request.path != "/index.php" or form.get("module") != "API":
            return _json({"result": "error", "message": "Unknown module or path."})
        if form.get("token_auth") != CREDENTIALS["matomo_token"] or \
                form.get("idSite") != CREDENTIALS["matomo_site"]:
            return self.auth_error()
        method = form.get("method")
        if method == "SitesManager.getSiteFromId":
            return _json({"idsite": "1", "name": "SayPro", "timezone": "Africa/Johannesburg"})
        if method != "Live.getLastVisitsDetails":
            return _json({"result": "error", "message": f"The method '{method}' does not exist."})
        day_file = self.data / "matomo" / "visits" / f"{form.get('date')}.jsonl"
        visits = _read_jsonl_file(day_file)
        offset, limit = int(form.get("filter_offset", 0)), int(form.get("filter_limit", 100))
        return _json(visits[offset: offset + limit])


def _read_jsonl_file(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line]


class MoodleApp(VendorApp):
    name = "moodle"

    def __init__(self, data: Path, latency: float = 0.0) -> None:
        super().__init__(data, latency)
        root = data / "moodle"
        self.categories = _read_jsonl(root / "categories")
        self.courses = _read_jsonl(root / "courses")
        self.enrolments: dict[int, list[dict]] = {}
        for user in _read_jsonl(root / "enrolments"):
            course = user.pop("courseid")
            self.enrolments.setdefault(course, []).append(user)
        self.completions = {(c.pop("courseid"), c.pop("userid")): c
                            for c in _read_jsonl(root / "completions")}
        self.grades: dict[int, list[dict]] = {}
        for grade in _read_jsonl(root / "grades"):
            self.grades.setdefault(grade["courseid"], []).append(grade)

    def auth_error(self) -> Response:
        return _json({"exception": "moodle_exception", "errorcode": "invalidtoken",
                      "message": "Invalid token - token not found"})

    def handle(self, request: Request) -> Response:
        form = request.form
        if request.path != "/webservice/rest/server.php":
            return _json({"error": "Not found"}, 404)
        if form.get("wstoken") != CREDENTIALS["moodle_token"]:
            return self.auth_error()
        function = form.get("wsfunction")

        def param(name: str) -> int | None:
            value = form.get(name)
            return int(value) if value and value.isdigit() else None

        if function == "core_webservice_get_site_info":
            return _json({"sitename": "SayPro Learning", "release": "4.4"})
        if function == "core_course_get_categories":
            return _json(self.categories)
        if function == "core_course_get_courses":
            return _json(self.courses)
        if function in ("core_enrol_get_enrolled_users", "gradereport_user_get_grade_items",
                        "core_completion_get_course_completion_status"):
            course = param("courseid")
            if course is None:
                return _json({"exception": "invalid_parameter_exception",
                              "errorcode": "invalidparameter",
                              "message": "Invalid parameter value detected"})
            if function == "core_enrol_get_enrolled_users":
                return _json(self.enrolments.get(course, []))
            if function == "gradereport_user_get_grade_items":
                return _json({"usergrades": self.grades.get(course, []), "warnings": []})
            found = self.completions.get((course, param("userid")))
            if found is None:
                return _json({"exception": "moodle_exception", "errorcode": "nocriteriaset",
                              "message": "No completion criteria set for this course"})
            return _json(found)
        return _json({"exception": "dml_missing_record_exception",
                      "errorcode": "invalidrecord",
                      "message": f"Can't find data record in database table external_functions."
                                 f" ({function})"})


class KoboApp(VendorApp):
    name = "kobo"

    def __init__(self, data: Path, latency: float = 0.0) -> None:
        super().__init__(data, latency)
        self.forms = {
            CREDENTIALS["kobo_registration_uid"]: ("registration", sorted(
                _read_jsonl(data / "kobo" / "registration"), key=lambda r: r["_id"])),
            CREDENTIALS["kobo_feedback_uid"]: ("feedback", sorted(
                _read_jsonl(data / "kobo" / "feedback"), key=lambda r: r["_id"])),
        }

    def auth_error(self) -> Response:
        return _json({"detail": "Invalid token."}, 401)

    def handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Token {CREDENTIALS['kobo_token']}":
            return self.auth_error()
        parts = [p for p in request.path.split("/") if p]
        if len(parts) < 4 or parts[:3] != ["api", "v2", "assets"] or parts[3] not in self.forms:
            return _json({"detail": "Not found."}, 404)
        form, records = self.forms[parts[3]]
        if len(parts) == 4:
            definition = self.data / "kobo" / "forms" / f"{form}.json"
            return _json(orjson.loads(definition.read_bytes()))
        query = json.loads(request.args.get("query") or "{}")
        after = (query.get("_submission_time") or {}).get("$gt")
        if after:
            records = [r for r in records if r["_submission_time"] > after]
        start = int(request.args.get("start", 0))
        limit = min(int(request.args.get("limit", 100)), 30000)
        page = records[start:start + limit]
        more = start + limit < len(records)
        next_url = f"{request.base_url}?" + urlencode(
            {**request.args, "start": start + limit}) if more else None
        previous = f"{request.base_url}?" + urlencode(
            {**request.args, "start": max(0, start - limit)}) if start else None
        return _json({"count": len(records), "next": next_url, "previous": previous,
                      "results": page})


class SandboxHandle:
    """The four emulators running in background threads."""

    def __init__(self, data: Path, host: str = "127.0.0.1", port_base: int = 0,
                 latency: float = 0.0) -> None:
        self.apps = {"zendesk": ZendeskApp(data, latency), "matomo": MatomoApp(data, latency),
                     "moodle": MoodleApp(data, latency), "kobo": KoboApp(data, latency)}
        self.servers: dict[str, BaseWSGIServer] = {}
        for i, (name, app) in enumerate(self.apps.items()):
            port = port_base + i if port_base else 0
            self.servers[name] = make_server(host, port, app, threaded=True)
        self.urls = {name: f"http://{host}:{server.server_port}"
                     for name, server in self.servers.items()}
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True)
                        for s in self.servers.values()]
        for thread in self.threads:
            thread.start()

    def faults(self, source: str) -> FaultPlan:
        return self.apps[source].faults

    def env(self) -> dict[str, str]:
        c = CREDENTIALS
        return {
            "ZENDESK_BASE_URL": self.urls["zendesk"], "ZENDESK_EMAIL": c["zendesk_email"],
            "ZENDESK_API_TOKEN": c["zendesk_token"],
            "MATOMO_BASE_URL": self.urls["matomo"], "MATOMO_SITE_ID": c["matomo_site"],
            "MATOMO_TOKEN": c["matomo_token"],
            "MOODLE_BASE_URL": self.urls["moodle"], "MOODLE_TOKEN": c["moodle_token"],
            "KOBO_BASE_URL": self.urls["kobo"], "KOBO_TOKEN": c["kobo_token"],
            "KOBO_REGISTRATION_ASSET_UID": c["kobo_registration_uid"],
            "KOBO_FEEDBACK_ASSET_UID": c["kobo_feedback_uid"],
        }

    def stop(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(data: Path, host: str = "127.0.0.1", port_base: int = 0,
                  latency: float = 0.0) -> SandboxHandle:
    return SandboxHandle(Path(data), host, port_base, latency)
