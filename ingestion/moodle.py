"""Moodle Web Services: categories, courses, enrolled users, completion status and grades.

Every call is checked for Moodle's HTTP-200 exception body. Completion status needs one call
per (course, student): they run concurrently in a bounded pool; a course's responses land
together, one JSON line per student response as sent, with the student's id in the metadata.
A student whose landed status is already complete, and who has not been in the course since,
is not asked again (see `settled_completions`).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from ingestion.contract import EntityPull
from ingestion.http import HttpClient, SourceError
from ingestion.landing import CursorStore, LandingStore
from ingestion.raw import connect
from ingestion.runner import EntityLoad
from ingestion.settings import Settings, SourceCredentials

PATH = "/webservice/rest/server.php"
WORKERS = 8
PER_USER_ERRORS = {"nocriteriaset", "notenrolled"}


class MoodleCaller:
    def __init__(self, credentials: SourceCredentials, log: logging.Logger) -> None:
        self.client = HttpClient("moodle", credentials.get("MOODLE_BASE_URL"), "MOODLE_TOKEN",
                                 log=log)
        self.token = credentials.get("MOODLE_TOKEN")

    def call(self, function: str, params: dict[str, Any] | None = None,
             load: EntityLoad | None = None) -> tuple[Any, bytes]:
        data = {"wstoken": self.token, "wsfunction": function, "moodlewsrestformat": "json",
                **(params or {})}
        public = {"wsfunction": function, **(params or {})}
        doc, body = self.client.request_json("POST", PATH, data=data, public_params=public,
                                             writer=load.writer if load else None)
        if isinstance(doc, dict) and "exception" in doc:
            code = doc.get("errorcode")
            if code in PER_USER_ERRORS:
                return doc, body
            fix = ("check MOODLE_TOKEN and that the web service allows this function"
                   if code in ("invalidtoken", "accessexception", "webservicesnotenabled")
                   else "check the function's parameters")
            raise SourceError(f"moodle: {function} at {PATH} failed with {code}: "
                              f"{doc.get('message')}; {fix}.")
        return doc, body


def pull(credentials: SourceCredentials, settings: Settings, log: logging.Logger, *,
         now: datetime | None = None) -> dict[str, EntityPull]:
    moodle = MoodleCaller(credentials, log)
    store, cursors = LandingStore(settings.data_dir), CursorStore(settings.data_dir)
    loads = {e: EntityLoad(store, cursors, "moodle", e)
             for e in ("categories", "courses", "enrolments", "completions", "grades")}

    def simple(entity: str, function: str) -> Any:
        doc, body = moodle.call(function, load=loads[entity])
        loads[entity].land(body, endpoint=PATH, params={"wsfunction": function},
                           records_path=None, count=len(doc))
        return doc

    simple("categories", "core_course_get_categories")
    courses = [c for c in simple("courses", "core_course_get_courses") if c.get("format") != "site"]
    settled = settled_completions(settings.warehouse)
    calls = skipped = 0
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:  # one pool for every course
        for course in courses:
            cid = course["id"]
            users, body = moodle.call("core_enrol_get_enrolled_users", {"courseid": cid},
                                      loads["enrolments"])
            loads["enrolments"].land(body, endpoint=PATH, params={"courseid": cid},
                                     records_path=None, count=len(users), extra={"courseid": cid})
            students = [u for u in users
                        if any(r.get("shortname") == "student" for r in u.get("roles", []))]
            to_ask = [u["id"] for u in students
                      if not _unchanged_since_complete(settled.get(f"{cid}-{u['id']}"), u)]
            calls += len(to_ask)
            skipped += len(students) - len(to_ask)
            _completions(moodle, pool, loads["completions"], cid, to_ask)
            grades, body = moodle.call("gradereport_user_get_grade_items", {"courseid": cid},
                                       loads["grades"])
            loads["grades"].land(body, endpoint=PATH, params={"courseid": cid},
                                 records_path="usergrades",
                                 count=len(grades.get("usergrades", [])))
    loads["completions"].pull.calls = calls
    loads["completions"].pull.skipped_calls = skipped
    return {entity: load.finish(moodle.client.retries if entity == "completions" else 0)
            for entity, load in loads.items()}


def settled_completions(warehouse: Path) -> dict[str, int]:
    """Landed completion statuses that are complete, by raw key (`courseid-userid`), with when
    (the latest criterion's `timecompleted`, 0 if none is given). A quarantined status is left
    out, so that it is asked for again.

    Moodle keeps a course completion once reached: only a course reset clears it, and a student
    who takes the course again goes back into it. So a complete student who has not accessed
    the course since completing it (`lastcourseaccess`) cannot have a new status, and the pull
    does not ask (41% of the calls on the generated scale-100 sample, a year of courses).
    """
    if not warehouse.exists():
        return {}
    with connect(warehouse) as con:
        tables = {row[0] for row in con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE (schema_name, table_name) IN "
            "(('raw', 'moodle__completions'), ('quality', 'quarantine'))").fetchall()}
        if "raw.moodle__completions" not in tables:
            return {}
        not_quarantined = "" if "quality.quarantine" not in tables else """
            AND NOT EXISTS (SELECT 1 FROM quality.quarantine AS q
                            WHERE q.source = 'moodle' AND q.entity = 'completions'
                              AND q.record_key = c.record_key)"""
        rows = con.execute(f"""
            SELECT c.record_key,
                   coalesce(list_max(try_cast(json_extract_string(
                       c.record, '$.completionstatus.completions[*].timecompleted')
                       AS BIGINT[])), 0)
            FROM raw.moodle__completions AS c
            WHERE try_cast(c.record->>'$.completionstatus.completed' AS BOOLEAN)
            {not_quarantined}
        """).fetchall()
    return dict(rows)


def _unchanged_since_complete(completed_at: int | None, user: dict[str, Any]) -> bool:
    """True when the student's landed status is complete and they have not been in the course
    since (a `lastcourseaccess` of 0 or missing means never)."""
    if completed_at is None:
        return False
    try:
        last_access = int(user.get("lastcourseaccess") or 0)
    except (TypeError, ValueError):
        return False  # unreadable: ask
    return last_access <= completed_at


def _completions(moodle: MoodleCaller, pool: ThreadPoolExecutor, load: EntityLoad, cid: int,
                 students: list[int]) -> None:
    """Each student's completion status (one call each, concurrently), landed as one file per
    course whose lines are the responses as sent: one durable write per course instead of per
    student (the fsyncs, not the calls, were the cost)."""

    def completion(uid: int) -> tuple[int, Any, bytes]:
        doc, body = moodle.call("core_completion_get_course_completion_status",
                                {"courseid": cid, "userid": uid})
        return uid, doc, body

    lines: list[bytes] = []
    line_users: list[dict[str, int]] = []
    for uid, doc, body in pool.map(completion, students):
        params = {"courseid": cid, "userid": uid}
        if "exception" in doc:
            load.land(body, endpoint=PATH, params=params, records_path="$", count=0,
                      status="rejected", error=f"{doc.get('errorcode')}: {doc.get('message')}")
        elif b"\n" in body:  # not one JSON line: lands on its own, as sent
            load.land(body, endpoint=PATH, params=params, records_path="$", count=1,
                      extra=params)
        else:
            lines.append(body.strip())
            line_users.append({"userid": uid})
    if lines:
        load.land(b"\n".join(lines) + b"\n", endpoint=PATH,
                  params={"courseid": cid, "users": len(line_users)}, records_path=None,
                  count=len(lines), fmt="jsonl", extra={"courseid": cid},
                  record_extras=line_users)
