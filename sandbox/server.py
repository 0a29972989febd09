"""Loopback emulators of the Zendesk, Matomo, Moodle and KoboToolbox APIs over sample data.

Each vendor is a werkzeug WSGI app on its own port, speaking the documented endpoints with
their pagination, cursors, incremental filters, authentication and error bodies, plus
switchable faults (`FaultPlan`) that count down so a retried request succeeds. Faults are set
from Python (`handle.faults("zendesk").set(...)`) or over HTTP (`POST /__sandbox/faults`).
Matomo visits are read one day file at a time; the other entities are served from an on-disk
DuckDB index of the sample (`sandbox.index`). Besides the page being served, an emulator keeps
only the last day, course, query id list or sort column it read (`LastKeyCache`), so memory
grows with the largest single table's sort column, not with the sample.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import sys
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlencode

import orjson
from werkzeug.wrappers import Request, Response

from sandbox.generator import FORM_UIDS
from sandbox.index import SampleIndex, json_array

CREDENTIALS = {
    "zendesk_email": "demo@saypro.online", "zendesk_token": "zd-demo-token",
    "matomo_token": "mt-demo-token", "matomo_site": "1", "moodle_token": "md-demo-token",
    "kobo_token": "kb-demo-token", "kobo_registration_uid": FORM_UIDS["registration"],
    "kobo_feedback_uid": FORM_UIDS["feedback"],
}
FAULTS = ("rate_limit_burst", "server_error", "timeout", "truncated_json", "malformed_json",
          "repeat_page", "schema_drift", "auth_failure", "vendor_error", "slow")
PAGING_PARAMETERS = {"cursor", "start_time", "start", "page", "filter_offset"}
"""Request parameters that page through a listing; the others name the listing."""


@dataclass
class FaultPlan:
    """Counters of faults still to inject; `slow` and `timeout` hold seconds in `delay`; a
    fault set with `after=N` lets N requests pass first (a failure in the middle of a pull)."""

    counts: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    drift: str = "new_field"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, fault: str, count: int = 1, *, delay: float = 0.0,
            drift: str = "new_field", after: int = 0) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {FAULTS}")
        with self.lock:
            self.counts[fault] = count
            self.after[fault] = after
            self.delay, self.drift = delay or self.delay, drift

    def take(self, fault: str) -> bool:
        with self.lock:
            left = self.counts.get(fault, 0)
            if left <= 0:
                return False
            if self.after.get(fault, 0) > 0:
                self.after[fault] -= 1
                return False
            self.counts[fault] = left - 1
            return True

    def clear(self) -> None:
        with self.lock:
            self.counts.clear()
            self.after.clear()
            self.delay = 0.0


def _json(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(doc), status=status, headers=headers,
                    content_type="application/json")


def _body(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type="application/json")


def _splice(meta: dict[str, Any], **lists: list[bytes]) -> bytes:
    """A JSON object of record lists (each record already serialised) and other members."""
    records = b",".join(orjson.dumps(key) + b":" + json_array(docs)
                        for key, docs in lists.items())
    rest = orjson.dumps(meta)[1:]  # without its opening brace
    return b"{" + records + (b"," + rest if rest != b"}" else rest)


class LastKeyCache:
    """The value computed for the last key asked. A vendor's paged or per-user reads of one
    day, form or course reuse it, and memory holds one such value whatever the scale."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[Any, Any] | None = None

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if self._entry is None or self._entry[0] != key:
                self._entry = (key, compute())
            return self._entry[1]


class VendorApp:
    """Common fault handling around a vendor's request handler."""

    name = "vendor"

    def __init__(self, data: Path, latency: float = 0.0) -> None:
        self.data = data
        self.faults = FaultPlan()
        self.latency = latency
        self.last_page: dict[tuple[Any, ...], bytes] = {}  # while `repeat_page` is pending

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
                                drift=body.get("drift", "new_field"),
                                after=int(body.get("after", 0)))
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
        if plan.take("vendor_error"):
            return self.vendor_error()
        response = self.handle(request)
        if response.status_code != 200:
            return response
        body = response.get_data()
        if plan.counts.get("repeat_page"):
            listing = (request.path, *sorted(
                (k, v) for k, v in [*request.args.items(multi=True),
                                    *request.form.items(multi=True)]
                if k not in PAGING_PARAMETERS))
            previous = self.last_page.get(listing)
            self.last_page[listing] = body
            if (repeated := self._repeat(body, previous)) and plan.take("repeat_page"):
                body = repeated
        else:
            self.last_page.clear()
        if plan.counts.get("schema_drift") and (drifted := self._drift(body, plan.drift)) \
                and plan.take("schema_drift"):  # only responses that carry records drift
            body = drifted
        if plan.take("truncated_json"):
            body = body[: len(body) // 2]
        elif plan.take("malformed_json"):
            body = b"<html>Bad gateway</html>" + body[:20]
        response.set_data(body)
        return response

    @staticmethod
    def _records(doc: Any) -> list[Any]:
        """The record list of a response (empty when it carries none)."""
        if isinstance(doc, list):
            return doc
        return next((v for v in doc.values() if isinstance(v, list)), []) \
            if isinstance(doc, dict) else []

    @classmethod
    def _repeat(cls, body: bytes, previous: bytes | None) -> bytes | None:
        """Records repeated across pages: the records of the listing's previous page again
        before this page's own (on a listing's first page, its own records twice). None when
        the response carries no records."""
        doc = orjson.loads(body)
        items = cls._records(doc)
        if not items:
            return None
        again = cls._records(orjson.loads(previous)) if previous else []
        items[:0] = again or list(items)
        return orjson.dumps(doc)

    @classmethod
    def _drift(cls, body: bytes, kind: str) -> bytes | None:
        """The body with its first record drifted; None when it carries no records."""
        doc = orjson.loads(body)
        items = cls._records(doc)
        if not items or not isinstance(items[0], dict):
            return None
        item = items[0]
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

    def vendor_error(self) -> Response:
        """A permanent failure in the vendor's own error style (not an outage)."""
        return _json({"error": "Forbidden"}, 403)


class IndexedApp(VendorApp):
    """A vendor whose records are served from the sample's on-disk index."""

    def __init__(self, data: Path, index: SampleIndex, latency: float = 0.0) -> None:
        super().__init__(data, latency)
        self.index = index


class ZendeskApp(IndexedApp):
    name = "zendesk"
    page_size = 1000

    def __init__(self, data: Path, index: SampleIndex, latency: float = 0.0) -> None:
        super().__init__(data, index, latency)
        self._sort_values = LastKeyCache()  # table -> its sort column, in export order

    def _page_end(self, table: str, column: str, first: Any, skip_equal: bool,
                  size: int) -> Any:
        """The sort value `size` rows past the first row at or after `first` (past every row
        equal to it when `skip_equal`): an upper bound that lets a page's query read only its
        own stretch of the index instead of a top-N over everything after the cursor."""
        values = self._sort_values.get(table, lambda: [row[0] for row in self.index.rows(
            f"SELECT {column} FROM {table} ORDER BY {column}, id")])
        if not values:
            return first
        start = (bisect_right if skip_equal else bisect_left)(values, first)
        return values[min(start + size, len(values) - 1)]

    def auth_error(self) -> Response:
        return _json({"error": "Couldn't authenticate you"}, 401)

    def vendor_error(self) -> Response:
        return _json({"error": "Forbidden", "description": "You do not have access to this "
                      "page. Please contact the account owner of this help desk for further "
                      "help."}, 403)

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
            return self._cursor_page(request, "zendesk_tickets", "tickets", horizon)
        if path == "/api/v2/incremental/users/cursor.json":
            return self._cursor_page(request, "zendesk_users", "users", horizon)
        if path == "/api/v2/incremental/ticket_events.json":
            return self._time_page(request, horizon)
        if path == "/api/v2/help_center/articles.json":
            page, per = int(args.get("page", 1)), min(int(args.get("per_page", 100)), 100)
            total = self.index.count("zendesk_articles")
            items = self.index.docs("SELECT doc FROM zendesk_articles ORDER BY id "
                                    "LIMIT ? OFFSET ?", [per, (page - 1) * per])
            pages = max(1, -(-total // per))
            return _body(_splice({"page": page, "page_count": pages, "count": total,
                                  "next_page": f"{request.host_url}api/v2/help_center/"
                                  f"articles.json?page={page + 1}&per_page={per}"
                                  if page < pages else None}, articles=items))
        return _json({"error": "InvalidEndpoint"}, 404)

    def _time_page(self, request: Request, horizon: int) -> Response:
        """Time-based export: the next page starts at the last event's second, so, as on
        Zendesk, the events of that second come again."""
        start = int(request.args.get("start_time", 0))
        end = self._page_end("zendesk_ticket_events", "ts", start, False, self.page_size)
        rows = self.index.rows("SELECT ts, doc FROM zendesk_ticket_events WHERE ts >= ? "
                               "AND ts <= ? AND ts < ? ORDER BY ts, id LIMIT ?",
                               [start, end, horizon, self.page_size + 1])
        end_of_stream = len(rows) <= self.page_size
        page = rows[: self.page_size]
        end_time = page[-1][0] if page else start
        return _body(_splice({
            "count": len(page), "end_time": end_time, "end_of_stream": end_of_stream,
            "next_page": None if end_of_stream else
            f"{request.host_url}api/v2/incremental/ticket_events.json?"
            + urlencode({"start_time": end_time, "include": "comment_events"})},
            ticket_events=[doc.encode() for _, doc in page]))

    def _cursor_page(self, request: Request, table: str, key: str, horizon: int) -> Response:
        """Cursor-based export over (updated_at, id); the cursor is opaque to the client."""
        args = request.args
        if "cursor" in args:
            after_stamp, _, after_id = base64.urlsafe_b64decode(args["cursor"]).decode() \
                .partition("|")
            where, params = "(updated_at > ? OR (updated_at = ? AND id > ?))", \
                [after_stamp, after_stamp, int(after_id)]
        else:
            start = datetime.fromtimestamp(int(args.get("start_time", 0)), UTC)
            where, params = "updated_at >= ?", [start.strftime("%Y-%m-%dT%H:%M:%SZ")]
        per = min(int(args.get("per_page", self.page_size)), 1000)
        horizon_stamp = datetime.fromtimestamp(horizon, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        end = self._page_end(table, "updated_at", params[0], "cursor" in args, per)
        rows = self.index.rows(f"SELECT updated_at, id, doc FROM {table} WHERE {where} "
                               "AND updated_at <= ? AND updated_at < ? "
                               "ORDER BY updated_at, id LIMIT ?",
                               [*params, end, horizon_stamp, per + 1])
        page = rows[:per]

        def cursor(row: tuple) -> str:
            return base64.urlsafe_b64encode(f"{row[0]}|{row[1]}".encode()).decode()

        after = cursor(page[-1]) if page else args.get("cursor") or cursor(
            (params[0], 0))
        return _body(_splice({"after_cursor": after,
                              "before_cursor": cursor(page[0]) if page else None,
                              "after_url": f"{request.base_url}?cursor={after}",
                              "end_of_stream": len(rows) <= per},
                             **{key: [doc.encode() for *_, doc in page]}))


class MatomoApp(VendorApp):
    name = "matomo"

    def __init__(self, data: Path, latency: float = 0.0) -> None:
        super().__init__(data, latency)
        self._days = LastKeyCache()

    def auth_error(self) -> Response:
        return _json({"result": "error", "message": "You can't access this resource as it "
                      "requires 'view' access for the website id = 1."})

    def vendor_error(self) -> Response:
        return _json({"result": "error", "message": "Mysql error: the archive table could "
                      "not be read."})

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
        offset, limit = int(form.get("filter_offset", 0)), int(form.get("filter_limit", 100))
        lines = self._day_lines(str(form.get("date")))
        return _body(json_array(lines[offset: offset + limit]))

    def _day_lines(self, day: str) -> list[bytes]:
        """The day's visits as JSON lines, unparsed, kept for the day's next pages."""

        def read() -> list[bytes]:
            path = self.data / "matomo" / "visits" / f"{day}.jsonl"
            return [ln for ln in path.read_bytes().splitlines() if ln] if path.exists() else []

        return self._days.get(day, read)


class MoodleApp(IndexedApp):
    name = "moodle"

    def __init__(self, data: Path, index: SampleIndex, latency: float = 0.0) -> None:
        super().__init__(data, index, latency)
        self._completions = LastKeyCache()  # course -> {userid: response}, for its students

    def auth_error(self) -> Response:
        return _json({"exception": "moodle_exception", "errorcode": "invalidtoken",
                      "message": "Invalid token - token not found"})

    def vendor_error(self) -> Response:
        return _json({"exception": "dml_read_exception", "errorcode": "dmlreadexception",
                      "message": "Error reading from database"})

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
            return _body(json_array(self.index.docs(
                "SELECT doc FROM moodle_categories ORDER BY ordinal")))
        if function == "core_course_get_courses":
            return _body(json_array(self.index.docs(
                "SELECT doc FROM moodle_courses ORDER BY ordinal")))
        if function in ("core_enrol_get_enrolled_users", "gradereport_user_get_grade_items",
                        "core_completion_get_course_completion_status"):
            course = param("courseid")
            if course is None:
                return _json({"exception": "invalid_parameter_exception",
                              "errorcode": "invalidparameter",
                              "message": "Invalid parameter value detected"})
            if function == "core_enrol_get_enrolled_users":
                return _body(json_array(self.index.docs(
                    "SELECT doc FROM moodle_enrolments WHERE courseid = ? ORDER BY ordinal",
                    [course])))
            if function == "gradereport_user_get_grade_items":
                grades = self.index.docs("SELECT doc FROM moodle_grades WHERE courseid = ? "
                                         "ORDER BY ordinal", [course])
                return _body(_splice({"warnings": []}, usergrades=grades))
            by_user = self._completions.get(course, lambda: {
                userid: doc.encode() for userid, doc in self.index.rows(
                    "SELECT userid, doc FROM moodle_completions WHERE courseid = ?", [course])})
            found = by_user.get(param("userid"))
            if found is None:
                return _json({"exception": "moodle_exception", "errorcode": "nocriteriaset",
                              "message": "No completion criteria set for this course"})
            return _body(found)
        return _json({"exception": "dml_missing_record_exception",
                      "errorcode": "invalidrecord",
                      "message": f"Can't find data record in database table external_functions."
                                 f" ({function})"})


class KoboApp(IndexedApp):
    name = "kobo"
    forms: ClassVar[dict[str, str]] = {CREDENTIALS["kobo_registration_uid"]: "registration",
                                       CREDENTIALS["kobo_feedback_uid"]: "feedback"}

    def __init__(self, data: Path, index: SampleIndex, latency: float = 0.0) -> None:
        super().__init__(data, index, latency)
        self._matching_ids = LastKeyCache()  # (form, query) -> ids in order, for its pages

    def auth_error(self) -> Response:
        return _json({"detail": "Invalid token."}, 401)

    def vendor_error(self) -> Response:
        return _json({"detail": "You do not have permission to perform this action."}, 403)

    def handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Token {CREDENTIALS['kobo_token']}":
            return self.auth_error()
        parts = [p for p in request.path.split("/") if p]
        if len(parts) < 4 or parts[:3] != ["api", "v2", "assets"] or parts[3] not in self.forms:
            return _json({"detail": "Not found."}, 404)
        form = self.forms[parts[3]]
        if len(parts) == 4:
            definition = self.data / "kobo" / "forms" / f"{form}.json"
            return _json(orjson.loads(definition.read_bytes()))
        query = json.loads(request.args.get("query") or "{}")
        after = (query.get("_submission_time") or {}).get("$gt") or ""
        start = int(request.args.get("start", 0))
        limit = min(int(request.args.get("limit", 100)), 30000)
        table = f"kobo_{form}"
        # a page is an id range of the matching submissions (the index is sorted by id), not
        # an OFFSET that sorts everything before it again for every page
        ids = self._matching_ids.get((table, after), lambda: array("q", (row[0] for row in (
            self.index.rows(f"SELECT id FROM {table} WHERE submitted > ? ORDER BY id",
                            [after])))))
        total = len(ids)
        window = ids[start:start + limit]
        page = self.index.docs(f"SELECT doc FROM {table} WHERE id BETWEEN ? AND ? "
                               "AND submitted > ? ORDER BY id",
                               [window[0], window[-1], after]) if window else []
        more = start + limit < total
        next_url = f"{request.base_url}?" + urlencode(
            {**request.args, "start": start + limit}) if more else None
        previous = f"{request.base_url}?" + urlencode(
            {**request.args, "start": max(0, start - limit)}) if start else None
        return _body(_splice({"count": total, "next": next_url, "previous": previous},
                             results=page))


class KeepAliveHandler(BaseHTTPRequestHandler):
    """Runs a vendor's WSGI app over HTTP/1.1 persistent connections, as the vendors' servers
    keep them open. werkzeug's development server closes every connection after one response
    (and reads what follows a request), so each call paid a new TCP connection on both sides
    and a new server thread. Each request's body is read whole before the app runs and each
    response is sent with its length, so requests follow each other on one connection."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a response's last segment is not held for an ACK
    wbufsize = -1  # headers and body leave in one write (flushed after each request)
    server: _VendorServer

    def _run(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"), "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(length), "REMOTE_ADDR": self.client_address[0],
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version, "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False}
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [status, headers]
            return lambda _: None

        chunks = self.server.app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, headers = started
        code, _, reason = status.partition(" ")
        self.send_response_only(int(code), reason)
        for name, value in headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _run

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # the client went away (a timed-out call)
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        return  # no access log per request


class _VendorServer(ThreadingHTTPServer):
    """One emulator's server: a thread per connection, daemon threads so that open
    persistent connections do not hold a stop up."""

    daemon_threads = True

    def __init__(self, host: str, port: int, app: VendorApp) -> None:
        super().__init__((host, port), KeepAliveHandler)
        self.app = app


class SandboxHandle:
    """The four emulators running in background threads."""

    def __init__(self, data: Path, host: str = "127.0.0.1", port_base: int = 0,
                 latency: float = 0.0) -> None:
        self.index = SampleIndex(data)
        self.apps = {"zendesk": ZendeskApp(data, self.index, latency),
                     "matomo": MatomoApp(data, latency),
                     "moodle": MoodleApp(data, self.index, latency),
                     "kobo": KoboApp(data, self.index, latency)}
        self.servers: dict[str, _VendorServer] = {}
        for i, (name, app) in enumerate(self.apps.items()):
            port = port_base + i if port_base else 0
            self.servers[name] = _VendorServer(host, port, app)
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
        self.index.close()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(data: Path, host: str = "127.0.0.1", port_base: int = 0,
                  latency: float = 0.0) -> SandboxHandle:
    return SandboxHandle(Path(data), host, port_base, latency)
