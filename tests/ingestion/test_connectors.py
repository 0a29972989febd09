"""Real connectors against the vendor emulators: full and incremental pulls give exactly the
sandbox's rows; schema drift keeps every record; nothing is lost or duplicated and no token is
ever written or logged. Every fault of every source is in `test_fault_matrix.py`."""

import logging
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson
import pytest

from ingestion.http import RetriesExhaustedError, SourceError
from ingestion.pull import pull_source
from ingestion.settings import Settings
from sandbox.server import SandboxHandle

SOURCES = ["zendesk", "matomo", "moodle", "kobo"]
KEYS = {  # raw table → how the sandbox files key the same records
    "zendesk__tickets": ("zendesk/tickets", lambda r: str(r["id"])),
    "zendesk__ticket_events": ("zendesk/ticket_events", lambda r: str(r["id"])),
    "zendesk__users": ("zendesk/users", lambda r: str(r["id"])),
    "matomo__visits": ("matomo/visits", lambda r: str(r["idVisit"])),
    "moodle__enrolments": ("moodle/enrolments", lambda r: f"{r['courseid']}-{r['id']}"),
    "moodle__completions": ("moodle/completions", lambda r: f"{r['courseid']}-{r['userid']}"),
    "kobo__feedback": ("kobo/feedback", lambda r: str(r["_id"])),
    "kobo__registration": ("kobo/registration", lambda r: str(r["_id"])),
}


def _expected(sandbox_data: Path, folder: str, key) -> set[str]:
    keys = set()
    for path in (sandbox_data / folder).glob("*.jsonl"):
        keys.update(key(orjson.loads(line)) for line in path.read_bytes().splitlines() if line)
    return keys


def _settings(tmp_path: Path, sandbox: SandboxHandle, **overrides: str) -> Settings:
    return Settings.from_env({"SAYPRO_DATA_DIR": str(tmp_path), "SAYPRO_START_DATE": "2025-01-01",
                              **sandbox.env(), **overrides})


def _keys(settings: Settings, table: str) -> list[str]:
    with duckdb.connect(str(settings.warehouse)) as con:
        return [r[0] for r in con.execute(f"SELECT record_key FROM raw.{table}").fetchall()]


def _pull_all(settings: Settings, log: logging.Logger) -> None:
    for source in SOURCES:
        pull_source(source, settings, log)


def test_full_then_incremental_pull_equals_sandbox(tmp_path: Path, clean_sandbox: SandboxHandle,
                                                   sandbox_data: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test")
    settings = _settings(tmp_path, clean_sandbox)
    caplog.set_level(logging.INFO)
    _pull_all(settings, log)
    for table, (folder, key) in KEYS.items():
        keys = _keys(settings, table)
        assert len(keys) == len(set(keys)), f"duplicates in {table}"
        assert set(keys) == _expected(sandbox_data, folder, key), table
    forms = {(d := orjson.loads(p.read_bytes()))["uid"]: d
             for p in (sandbox_data / "kobo" / "forms").glob("*.json")}
    with duckdb.connect(str(settings.warehouse)) as con:
        landed_forms = dict(con.execute("SELECT record_key, record FROM raw.kobo__forms")
                            .fetchall())
        methods = dict(con.execute("""
            SELECT source, string_agg(DISTINCT meta->>'$.request.method', ',')
            FROM raw._landing_files GROUP BY source""").fetchall())
    assert {k: orjson.loads(v) for k, v in landed_forms.items()} == forms
    # the landing metadata records the request as sent: Moodle and Matomo take POSTed forms
    assert methods == {"zendesk": "GET", "kobo": "GET", "moodle": "POST", "matomo": "POST"}
    first = {t: sorted(_keys(settings, t)) for t in [*KEYS, "kobo__forms"]}
    _pull_all(settings, log)  # incremental: nothing new, nothing duplicated
    assert {t: sorted(_keys(settings, t)) for t in [*KEYS, "kobo__forms"]} == first
    secrets = [v for k, v in clean_sandbox.env().items() if "TOKEN" in k]
    landed = b"".join(p.read_bytes() for p in (tmp_path / "landing").rglob("*") if p.is_file())
    for secret in secrets:
        assert secret.encode() not in landed
        assert secret not in caplog.text


def _unchanged_complete_students(sandbox_data: Path) -> set[str]:
    """From the sandbox's own files: students whose completion is complete and who have not
    been in the course since, as `courseid-userid`."""
    def records(folder: str) -> list[dict]:
        return [orjson.loads(line) for path in (sandbox_data / folder).glob("*.jsonl")
                for line in path.read_bytes().splitlines() if line]

    completed_at = {}
    for r in records("moodle/completions"):
        status = r.get("completionstatus") or {}
        if status.get("completed"):
            completed_at[f"{r['courseid']}-{r['userid']}"] = max(
                (c.get("timecompleted") or 0 for c in status.get("completions", [])), default=0)
    return {key for r in records("moodle/enrolments")
            if (key := f"{r['courseid']}-{r['id']}") in completed_at
            and any(role["shortname"] == "student" for role in r["roles"])
            and (r.get("lastcourseaccess") or 0) <= completed_at[key]}


def test_moodle_asks_again_only_for_completions_that_can_have_changed(
        tmp_path: Path, clean_sandbox: SandboxHandle, sandbox_data: Path) -> None:
    settings = _settings(tmp_path, clean_sandbox)
    log = logging.getLogger("test")
    first = pull_source("moodle", settings, log).entities["completions"]
    assert first.skipped_calls == 0
    settled = _unchanged_complete_students(sandbox_data)
    assert 0 < len(settled) < first.calls

    second = pull_source("moodle", settings, log).entities["completions"]
    assert second.skipped_calls == len(settled)
    assert second.calls == first.calls - len(settled)
    keys = _keys(settings, "moodle__completions")
    assert len(keys) == len(set(keys))
    assert set(keys) == _expected(sandbox_data, "moodle/completions",
                                  KEYS["moodle__completions"][1])

    # A status last landed as not complete is asked for again, and the new status replaces it.
    key = sorted(settled)[0]
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("UPDATE raw.moodle__completions SET record = json_merge_patch(record, "
                    "'{\"completionstatus\": {\"completed\": false}}') WHERE record_key = ?",
                    [key])
    third = pull_source("moodle", settings, log).entities["completions"]
    assert third.skipped_calls == len(settled) - 1
    with duckdb.connect(str(settings.warehouse)) as con:
        completed = con.execute("SELECT record->>'$.completionstatus.completed' "
                                "FROM raw.moodle__completions WHERE record_key = ?",
                                [key]).fetchone()[0]
    assert completed == "true"

    # A status that validation set aside is asked for again, whatever it says.
    from quality.history import ensure_schema

    quarantined = sorted(settled)[1]
    with duckdb.connect(str(settings.warehouse)) as con:
        ensure_schema(con)
        con.execute("INSERT INTO quality.quarantine (source, entity, record_key, rule) "
                    "VALUES ('moodle', 'completions', ?, 'a_rule')", [quarantined])
    fourth = pull_source("moodle", settings, log).entities["completions"]
    assert fourth.skipped_calls == len(settled) - 1


@pytest.mark.parametrize("drift", ["new_field", "missing_field", "changed_type"])
@pytest.mark.parametrize("source", ["zendesk", "matomo", "kobo"])
def test_schema_drift_keeps_every_record(tmp_path: Path, clean_sandbox: SandboxHandle,
                                         sandbox_data: Path, source: str, drift: str) -> None:
    """A vendor upgrade that adds a field, drops one or sends an id as a string (in the first
    response of the pull) lands every record once, under the same key and as sent; validation
    then checks every landed row."""
    from datetime import UTC, datetime

    from quality.validate import validate_entity

    settings = _settings(tmp_path, clean_sandbox)
    clean_sandbox.faults(source).set("schema_drift", 1, drift=drift)
    pull_source(source, settings, logging.getLogger("test"))
    drifted = 0
    for table, (folder, key) in KEYS.items():
        if not table.startswith(source):
            continue
        keys = _keys(settings, table)
        assert len(keys) == len(set(keys)), table
        assert set(keys) == _expected(sandbox_data, folder, key), table
        with duckdb.connect(str(settings.warehouse)) as con:
            drifted += con.execute(f"""
                select count(*) from raw.{table}
                where json_exists(record, '$.added_by_vendor_upgrade')
                   or json_type(record, '$.id') = 'VARCHAR'
                   or json_type(record, '$.idVisit') = 'VARCHAR'
                   or json_type(record, '$._id') = 'VARCHAR'""").fetchone()[0]
        result = validate_entity(settings.warehouse, source, table.split("__")[1],
                                 run_id=f"drift-{table}", as_of=datetime.now(UTC))
        assert result.rows_checked == len(keys)
        assert result.rows_quarantined <= 1
    assert drifted == (0 if drift == "missing_field" else 1)  # landed as sent, not "repaired"


def test_kill_between_pages_resumes_without_loss_or_duplicates(
        tmp_path: Path, clean_sandbox: SandboxHandle, sandbox_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from ingestion.landing import LoadWriter

    settings = _settings(tmp_path, clean_sandbox)
    original = LoadWriter.land
    calls = {"n": 0}

    def dying_land(self, *args, **kwargs):
        landed = original(self, *args, **kwargs)
        calls["n"] += 1
        if self.entity == "visits" and calls["n"] == 40:  # landed, cursor not yet saved
            raise KeyboardInterrupt("killed")
        return landed

    monkeypatch.setattr(LoadWriter, "land", dying_land)
    with pytest.raises(KeyboardInterrupt):
        pull_source("matomo", settings, logging.getLogger("test"))
    monkeypatch.setattr(LoadWriter, "land", original)
    pull_source("matomo", settings, logging.getLogger("test"))
    keys = _keys(settings, "matomo__visits")
    assert len(keys) == len(set(keys))
    assert set(keys) == _expected(sandbox_data, "matomo/visits", lambda r: str(r["idVisit"]))


def test_unconfigured_source_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    settings = Settings.from_env({"SAYPRO_DATA_DIR": str(tmp_path)})
    assert pull_source("zendesk", settings, logging.getLogger("test")).mode == "skipped"
    assert "ZENDESK_BASE_URL" in caplog.text


def test_a_drop_folder_is_read_instead_of_the_api(tmp_path: Path, sandbox_data: Path) -> None:
    """DESIGN.md section 3: with SAYPRO_DROP_DIR set, a source that has export files there is
    read from them, even when its API variables are set too (here to an address where nothing
    listens: any call would fail)."""
    drop = tmp_path / "drop"
    shutil.copytree(sandbox_data / "kobo", drop / "kobo")
    settings = Settings.from_env({
        "SAYPRO_DATA_DIR": str(tmp_path / "data"), "SAYPRO_DROP_DIR": str(drop),
        "KOBO_BASE_URL": "http://127.0.0.1:9", "KOBO_TOKEN": "t",
        "KOBO_REGISTRATION_ASSET_UID": "aReg", "KOBO_FEEDBACK_ASSET_UID": "aFeed"})
    assert settings.source("kobo") is not None
    result = pull_source("kobo", settings, logging.getLogger("test"))
    assert result.mode == "drop"
    assert sorted(_keys(settings, "kobo__feedback")) == sorted(_expected(
        sandbox_data, "kobo/feedback", lambda r: str(r["_id"])))


def test_proxy_settings_come_from_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxy variables, NO_PROXY and the CA bundle are honoured, resolved when the client is
    made rather than re-read on every call."""
    from ingestion.http import HttpClient

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "lms.internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/saypro-ca.pem")
    remote = HttpClient("zendesk", "https://saypro.zendesk.com", "ZENDESK_API_TOKEN")
    internal = HttpClient("moodle", "https://lms.internal.example", "MOODLE_TOKEN")
    assert remote.session.proxies.get("https") == "http://proxy.example:3128"
    assert "https" not in internal.session.proxies
    assert remote.session.verify == "/etc/ssl/saypro-ca.pem"
    monkeypatch.setenv("HTTPS_PROXY", "http://changed.example:1")
    assert remote.session.proxies.get("https") == "http://proxy.example:3128"
    assert not remote.session.trust_env  # requests no longer re-reads them per call


ASSET_ANSWERS = {
    "not_found": (404, b'{"detail": "Not found."}'),
    "not_allowed": (405, b'{"detail": "Method not allowed."}'),
    "forbidden": (403, b'{"detail": "You do not have permission to perform this action."}'),
    "other_document": (200, b'{"count": 0, "next": null, "previous": null, "results": []}'),
}


def _kobo_asset_endpoint_answers(clean_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch,
                                 status: int, body: bytes, **headers: str) -> None:
    """The emulator's asset endpoint (the form definition) answers `status` and `body`; its
    data endpoint is unchanged."""
    from werkzeug.wrappers import Response

    kobo = clean_sandbox.apps["kobo"]
    handle = kobo.handle

    def asset_answers(request):
        if request.path.startswith("/api/v2/assets/") and "/data/" not in request.path:
            return Response(body, status, headers, content_type="application/json")
        return handle(request)

    monkeypatch.setattr(kobo, "handle", asset_answers)


@pytest.mark.parametrize("answer", ASSET_ANSWERS)
def test_kobo_without_a_form_definition_pulls_the_submissions(
        answer: str, tmp_path: Path, clean_sandbox: SandboxHandle, sandbox_data: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """DESIGN.md section 4 names only the data endpoint: a server that gives no form
    definition (no asset endpoint, not allowed, another document there) still gives every
    submission, with a warning that names the form."""
    _kobo_asset_endpoint_answers(clean_sandbox, monkeypatch, *ASSET_ANSWERS[answer])
    settings = _settings(tmp_path, clean_sandbox)
    with caplog.at_level(logging.WARNING):
        pull_source("kobo", settings, logging.getLogger("test"))
    for table in ("kobo__registration", "kobo__feedback"):
        folder, key = KEYS[table]
        assert set(_keys(settings, table)) == _expected(sandbox_data, folder, key)
    assert _keys(settings, "kobo__forms") == []
    warnings = [r.getMessage() for r in caplog.records if "no form definition" in r.getMessage()]
    assert len(warnings) == 2, warnings


def test_kobo_token_refused_at_the_form_definition_stops_the_pull(
        tmp_path: Path, clean_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    _kobo_asset_endpoint_answers(clean_sandbox, monkeypatch, 401,
                                 b'{"detail": "Invalid token."}')
    settings = _settings(tmp_path, clean_sandbox)
    with pytest.raises(SourceError, match="401"):
        pull_source("kobo", settings, logging.getLogger("test"))


def test_kobo_form_definition_failing_for_now_ends_the_pull_for_a_retry(
        tmp_path: Path, clean_sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate limited past the retries: the pull ends as on any call (the orchestrator runs it
    again), rather than going on without the definition."""
    _kobo_asset_endpoint_answers(clean_sandbox, monkeypatch, 429,
                                 b'{"detail": "Request was throttled."}', **{"Retry-After": "0"})
    settings = _settings(tmp_path, clean_sandbox)
    with pytest.raises(RetriesExhaustedError):
        pull_source("kobo", settings, logging.getLogger("test"))


@pytest.mark.parametrize("errorcode", ["usernotenroled", "cannotviewreport", "accessdenied"])
def test_moodle_completion_refused_for_a_student_keeps_the_pull(
        errorcode: str, tmp_path: Path, clean_sandbox: SandboxHandle, sandbox_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Moodle's per-student refusals of core_completion_get_course_completion_status (a
    suspended student, a course without completion tracking, a group the web-service user
    cannot see) land as rejected pages; the other students' statuses all land."""
    from werkzeug.wrappers import Response

    moodle = clean_sandbox.apps["moodle"]
    handle = moodle.handle
    refused: set[str] = set()

    def refuse_odd_students(request):
        form = request.form
        if form.get("wsfunction") == "core_completion_get_course_completion_status" \
                and int(form["userid"]) % 2:
            refused.add(f"{form['courseid']}-{form['userid']}")
            return Response(orjson.dumps({"exception": "moodle_exception",
                                          "errorcode": errorcode, "message": "refused"}),
                            200, content_type="application/json")
        return handle(request)

    monkeypatch.setattr(moodle, "handle", refuse_odd_students)
    settings = _settings(tmp_path, clean_sandbox)
    pull_source("moodle", settings, logging.getLogger("test"))
    landed = set(_keys(settings, "moodle__completions"))
    expected = _expected(sandbox_data, "moodle/completions", KEYS["moodle__completions"][1])
    assert refused and landed == expected - refused
    with duckdb.connect(str(settings.warehouse)) as con:
        errors = con.execute("SELECT count(*) FROM raw._landing_files WHERE source = 'moodle' "
                             "AND status = 'rejected' AND meta->>'$.error' LIKE ?",
                             [f"{errorcode}:%"]).fetchone()[0]
    assert errors == len(refused)


def test_moodle_grades_are_keyed_by_the_course_asked_for(
        tmp_path: Path, clean_sandbox: SandboxHandle, sandbox_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A grades page comes from a per-course call, and its records carry that course
    (DESIGN.md section 4) even when the server's usergrades do not name it."""
    from werkzeug.wrappers import Response

    moodle = clean_sandbox.apps["moodle"]
    handle = moodle.handle

    def grades_without_course(request):
        response = handle(request)
        if request.form.get("wsfunction") != "gradereport_user_get_grade_items":
            return response
        doc = orjson.loads(response.get_data())
        for grade in doc["usergrades"]:
            del grade["courseid"]
        return Response(orjson.dumps(doc), 200, content_type="application/json")

    monkeypatch.setattr(moodle, "handle", grades_without_course)
    settings = _settings(tmp_path, clean_sandbox)
    pull_source("moodle", settings, logging.getLogger("test"))
    expected = _expected(sandbox_data, "moodle/grades", lambda r: f"{r['courseid']}-{r['userid']}")
    assert expected and set(_keys(settings, "moodle__grades")) == expected


def test_history_starts_at_local_midnight(tmp_path: Path, clean_sandbox: SandboxHandle) -> None:
    """SAYPRO_START_DATE is a local day (DESIGN.md section 3): 2025-01-01 in Johannesburg
    starts at 2024-12-31 22:00 UTC, so what happened in the first two local hours is pulled."""
    settings = _settings(tmp_path, clean_sandbox, SAYPRO_TIMEZONE="Africa/Johannesburg")
    log = logging.getLogger("test")
    pull_source("zendesk", settings, log)
    pull_source("kobo", settings, log)
    with duckdb.connect(str(settings.warehouse)) as con:
        first = dict(con.execute("""
            SELECT entity, min(coalesce(meta->>'$.request.params.start_time',
                                        meta->>'$.request.params.query'))
            FROM raw._landing_files
            WHERE entity IN ('tickets', 'ticket_events', 'registration', 'feedback')
              AND meta->>'$.request.params.cursor' IS NULL
            GROUP BY entity""").fetchall())
        windows = dict(con.execute("""
            SELECT entity, min(meta->>'$.request.window.start') FROM raw._landing_files
            WHERE entity IN ('tickets', 'ticket_events', 'registration') GROUP BY entity
            """).fetchall())
        events_without_end = con.execute("""
            SELECT count(*) FROM raw._landing_files WHERE entity = 'ticket_events'
              AND meta->>'$.request.window.end' IS NULL""").fetchone()[0]
    midnight = "1735682400"  # 2024-12-31T22:00:00Z
    assert first["tickets"] == first["ticket_events"] == midnight
    for form in ("registration", "feedback"):
        assert first[form] == '{"_submission_time": {"$gt": "2024-12-31T22:00:00"}}'
    # the landing metadata's request window (DESIGN.md section 5)
    assert windows == {"tickets": "2024-12-31T22:00:00+00:00",
                       "ticket_events": "2024-12-31T22:00:00+00:00",
                       "registration": "2024-12-31T22:00:00"}
    assert events_without_end == 0


def test_matomo_server_with_a_smaller_page_cap_gives_every_visit(
        tmp_path: Path, clean_sandbox: SandboxHandle, sandbox_data: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A Matomo that returns at most 3 rows whatever filter_limit asks for: the connector
    pages on by the rows it got, and lands every visit of every day."""
    matomo = clean_sandbox.apps["matomo"]
    handle = matomo.handle

    def capped(request):
        response = handle(request)
        rows = orjson.loads(response.get_data())
        if isinstance(rows, list):
            response.set_data(orjson.dumps(rows[:3]))
        return response

    monkeypatch.setattr(matomo, "handle", capped)
    settings = _settings(tmp_path, clean_sandbox, SAYPRO_START_DATE="2025-12-01")
    pull_source("matomo", settings, logging.getLogger("test"))
    expected = {str(orjson.loads(line)["idVisit"])
                for path in (sandbox_data / "matomo" / "visits").glob("2025-12-*.jsonl")
                for line in path.read_bytes().splitlines() if line}
    keys = _keys(settings, "matomo__visits")
    assert len(keys) == len(set(keys)) and set(keys) == expected
    assert len(expected) > 3 * 31  # days with more visits than the cap


@pytest.mark.parametrize("status", [408, 501, 507, 520])
def test_any_5xx_and_a_request_timeout_are_retried(status: int) -> None:
    """DESIGN.md section 5: 429 and every 5xx are transient, not only the common ones; 408 is a
    timeout. The server fails twice, then answers."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from ingestion.http import HttpClient

    calls: list[str] = []

    class Flaky(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            calls.append(self.path)
            code, body = (status, b"{}") if len(calls) <= 2 else (200, b'{"ok": true}')
            self.send_response(code)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = HttpClient("zendesk", f"http://127.0.0.1:{server.server_port}",
                            "ZENDESK_API_TOKEN")
        doc, _ = client.request_json("GET", "/api/v2/x.json")
    finally:
        server.shutdown()
        server.server_close()
    assert doc == {"ok": True}
    assert len(calls) == 3 and client.retries == 2


def test_retry_after_is_honoured_in_its_forms() -> None:
    """Retry-After in seconds (a fraction too) or as an HTTP date is the wait; a wait that would
    end past the client's budget ends the retries at once (asking earlier would not honour
    it), and the source fails as retries exhausted."""
    from email.utils import format_datetime

    from ingestion.http import HttpClient, RetriesExhaustedError, TransientError, _seconds

    assert _seconds("2") == 2.0 and _seconds("0.5") == 0.5 and _seconds("-3") == 0.0
    assert _seconds(None) is None and _seconds("soon") is None
    in_90_s = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert 85 < _seconds(in_90_s) <= 90

    client = HttpClient("matomo", "http://127.0.0.1:9", "MATOMO_TOKEN", max_wait_s=120.0)
    calls: list[float] = []

    def busy(*args: object) -> None:
        calls.append(time.monotonic())
        raise TransientError("HTTP 429 at /index.php", retry_after=300.0)

    client._once = busy  # type: ignore[method-assign]
    started = time.monotonic()
    with pytest.raises(RetriesExhaustedError, match=r"matomo: /index\.php still failing"):
        client.request_json("GET", "/index.php")
    assert len(calls) == 1 and time.monotonic() - started < 5
