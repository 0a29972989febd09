"""Moodle Web Services: categories, courses, enrolled users, completion status and grades.

Every call is checked for Moodle's HTTP-200 exception body. Completion status needs one call
per (course, student): they run concurrently in a bounded pool; a course's responses land
together, one JSON line per student response as sent, with the student's id in the metadata.
A student whose landed status is already complete, and who has not been in the course since,
is not asked again (see `SETTLED_COMPLETIONS`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from ingestion.contract import (
    CallCount,
    EntityDeclaration,
    Page,
    Pages,
    SourceContext,
    SourceDeclaration,
)
from ingestion.http import HttpClient, SourceError

PATH = "/webservice/rest/server.php"
WORKERS = 8
PER_USER_ERRORS = {"nocriteriaset", "usernotenroled", "notenroled", "cannotviewreport",
                   "accessdenied"}
"""Error codes of `core_completion_get_course_completion_status` that concern one student or
one course, not the pull: no completion criteria, the student not tracked (suspended, or no
longer enrolled), completion not enabled in the course (workshops often have none), the
student in a group the web-service user cannot see. Such a response lands as a rejected page
with its error code; any other exception stops the pull."""

SETTLED_COMPLETIONS = """
    SELECT record_key,
           coalesce(list_max(try_cast(json_extract_string(
               record, '$.completionstatus.completions[*].timecompleted') AS BIGINT[])), 0)
    FROM records
    WHERE try_cast(record->>'$.completionstatus.completed' AS BOOLEAN)
"""
"""Landed completion statuses that are complete, by raw key (`courseid-userid`), with when
(the latest criterion's `timecompleted`, 0 if none is given); `ctx.landed` leaves out the
statuses validation set aside, so that they are asked for again.

Moodle keeps a course completion once reached: only a course reset clears it, and a student
who takes the course again goes back into it. So a complete student who has not accessed
the course since completing it (`lastcourseaccess`) cannot have a new status, and the pull
does not ask (41% of the calls on the generated scale-100 sample, a year of courses).
"""


_page = partial(Page, method="POST")
"""Every Web Services call is a POSTed form (the token is one of its fields)."""


class MoodleCaller:
    def __init__(self, client: HttpClient, token: str) -> None:
        self.client = client
        self.token = token

    def call(
        self, function: str, params: dict[str, Any] | None = None, entity: str | None = None
    ) -> tuple[Any, bytes]:
        data = {
            "wstoken": self.token,
            "wsfunction": function,
            "moodlewsrestformat": "json",
            **(params or {}),
        }
        public = {"wsfunction": function, **(params or {})}
        doc, body = self.client.request_json(
            "POST", PATH, data=data, public_params=public, entity=entity
        )
        if isinstance(doc, dict) and "exception" in doc:
            code = doc.get("errorcode")
            if code in PER_USER_ERRORS:
                return doc, body
            fix = (
                "check MOODLE_TOKEN and that the web service allows this function"
                if code in ("invalidtoken", "accessexception", "webservicesnotenabled")
                else "check the function's parameters"
            )
            raise SourceError(
                f"moodle: {function} at {PATH} failed with {code}: {doc.get('message')}; {fix}."
            )
        return doc, body


def pages(ctx: SourceContext) -> Pages:
    moodle = MoodleCaller(ctx.client, ctx.credentials.get("MOODLE_TOKEN"))
    categories, body = moodle.call("core_course_get_categories", entity="categories")
    yield _page(
        "categories",
        body,
        PATH,
        {"wsfunction": "core_course_get_categories"},
        records_path=None,
        record_count=len(categories),
    )
    courses, body = moodle.call("core_course_get_courses", entity="courses")
    yield _page(
        "courses",
        body,
        PATH,
        {"wsfunction": "core_course_get_courses"},
        records_path=None,
        record_count=len(courses),
    )
    courses = [c for c in courses if c.get("format") != "site"]
    settled = dict(ctx.landed("completions", SETTLED_COMPLETIONS))
    calls = skipped = 0
    rejected: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:  # one pool for every course
        for course in courses:
            cid = course["id"]
            users, body = moodle.call(
                "core_enrol_get_enrolled_users", {"courseid": cid}, "enrolments"
            )
            yield _page(
                "enrolments",
                body,
                PATH,
                {"courseid": cid},
                records_path=None,
                record_count=len(users),
                extra={"courseid": cid},
            )
            students = [
                u for u in users if any(r.get("shortname") == "student" for r in u.get("roles", []))
            ]
            to_ask = [
                u["id"]
                for u in students
                if not _unchanged_since_complete(settled.get(f"{cid}-{u['id']}"), u)
            ]
            calls += len(to_ask)
            skipped += len(students) - len(to_ask)
            yield from _completions(moodle, pool, cid, to_ask, rejected)
            grades, body = moodle.call(
                "gradereport_user_get_grade_items", {"courseid": cid}, "grades"
            )
            yield _page(
                "grades",
                body,
                PATH,
                {"courseid": cid},
                records_path="usergrades",
                record_count=len(grades.get("usergrades", [])),
                extra={"courseid": cid},
            )
    if calls and rejected.total() == calls:
        ctx.log.warning(
            "moodle: every completion status call was refused (%s): completion rates will read "
            "0. Give the web service's user the capability report/completion:view and enable "
            "completion tracking in the courses.",
            ", ".join(f"{code} x{n}" for code, n in rejected.most_common()))
    return {"completions": CallCount(calls, skipped)}


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


def _completions(
    moodle: MoodleCaller, pool: ThreadPoolExecutor, cid: int, students: list[int],
    rejected: Counter[str]
) -> Iterator[Page]:
    """Each student's completion status (one call each, concurrently), landed as one file per
    course whose lines are the responses as sent: one durable write per course instead of per
    student (the fsyncs, not the calls, were the cost). A refused call (PER_USER_ERRORS) lands
    as a rejected page and is counted in `rejected` by error code."""

    def completion(uid: int) -> tuple[int, Any, bytes]:
        doc, body = moodle.call(
            "core_completion_get_course_completion_status", {"courseid": cid, "userid": uid}
        )
        return uid, doc, body

    lines: list[bytes] = []
    line_users: list[dict[str, int]] = []
    for uid, doc, body in pool.map(completion, students):
        params = {"courseid": cid, "userid": uid}
        if "exception" in doc:
            rejected[str(doc.get("errorcode"))] += 1
            yield _page(
                "completions",
                body,
                PATH,
                params,
                records_path="$",
                record_count=0,
                status="rejected",
                error=f"{doc.get('errorcode')}: {doc.get('message')}",
            )
        elif b"\n" in body:  # not one JSON line: lands on its own, as sent
            yield _page(
                "completions", body, PATH, params, records_path="$", record_count=1, extra=params
            )
        else:
            lines.append(body.strip())
            line_users.append({"userid": uid})
    if lines:
        yield _page(
            "completions",
            b"\n".join(lines) + b"\n",
            PATH,
            {"courseid": cid, "users": len(line_users)},
            records_path=None,
            record_count=len(lines),
            fmt="jsonl",
            extra={"courseid": cid},
            record_extras=line_users,
        )


SOURCE = SourceDeclaration(
    name="moodle",
    label="Moodle (learning)",
    description="Moodle Web Services: categories, courses, enrolled users, per-student "
    "completion status and grade items.",
    entities=(
        EntityDeclaration("categories", "record->>'$.id'"),
        EntityDeclaration("courses", "record->>'$.id'"),
        EntityDeclaration("enrolments", "(record->>'$.courseid') || '-' || (record->>'$.id')"),
        EntityDeclaration("completions", "(record->>'$.courseid') || '-' || (record->>'$.userid')"),
        EntityDeclaration(
            "grades",
            "(record->>'$.courseid') || '-' || (record->>'$.userid')",
            list_key="usergrades",
        ),
    ),
    variables=("MOODLE_BASE_URL", "MOODLE_TOKEN"),
    secrets=frozenset({"MOODLE_TOKEN"}),
    base_url_variable="MOODLE_BASE_URL",
    credentials_hint="MOODLE_TOKEN",
    connector=pages,
)
