"""Hand-written vendor-shaped records (clean), their schema drifts, and a loader that writes
raw tables."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ingestion.raw import RAW_COLUMNS
from ingestion.sources import ENTITIES

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
N = 6
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _iso(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unix(d: datetime) -> int:
    return int(d.timestamp())


def tickets() -> list[dict[str, Any]]:
    statuses = ["new", "open", "pending", "hold", "solved", "closed"]
    priorities = ["urgent", "high", "normal", "low", None, "normal"]
    return [{
        "id": 1000 + i, "created_at": _iso(T0 + timedelta(days=i)),
        "updated_at": _iso(T0 + timedelta(days=i, hours=5)), "status": statuses[i % 6],
        "priority": priorities[i % 6], "type": "question", "via": {"channel": "web"},
        "requester_id": 500 + i, "assignee_id": 900 if i % 2 else None, "group_id": 7,
        "subject": f"Ticket {i}", "tags": ["billing", "payment_failed"] if i % 2 else [],
        "satisfaction_rating": {"score": ["good", "bad", "offered", "unoffered"][i % 4]},
    } for i in range(N)]


def ticket_events() -> list[dict[str, Any]]:
    return [{
        "id": 5000 + i, "ticket_id": 1000 + i, "timestamp": _unix(T0 + timedelta(days=i)),
        "created_at": _iso(T0 + timedelta(days=i)), "updater_id": 900, "event_type": "Audit",
        "child_events": [
            {"id": 1, "event_type": "Create", "status": "new", "priority": "normal"},
            {"id": 2, "event_type": "Change", "status": "solved", "previous_value": "open"},
            {"id": 3, "event_type": "Change", "field_name": "status", "value": "open",
             "previous_value": "solved"},
            {"id": 4, "event_type": "Comment", "author_id": 900, "public": True,
             "body": "Hello", "created_at": _iso(T0 + timedelta(days=i))},
        ],
    } for i in range(N)]


def users() -> list[dict[str, Any]]:
    roles = ["end-user", "end-user", "agent", "admin", "end-user", "end-user"]
    return [{
        "id": 500 + i, "external_id": f"P{i:04d}", "role": roles[i],
        "created_at": _iso(T0 - timedelta(days=30 - i)),
        "tags": ["premium"] if i == 1 else [], "email": f"user{i}@example.org",
        "phone": "+27 11 555 0000",
    } for i in range(N)]


def articles() -> list[dict[str, Any]]:
    return [{
        "id": 70 + i, "title": f"How to {i}", "label_names": ["billing"], "vote_sum": i - 2,
        "vote_count": i, "created_at": _iso(T0), "updated_at": _iso(T0 + timedelta(days=i)),
    } for i in range(N)]


def visits() -> list[dict[str, Any]]:
    out = []
    for i in range(N):
        first = T0 + timedelta(hours=i)
        actions = 1 + i % 3
        out.append({
            "idVisit": 9000 + i, "visitorId": f"{i:016x}", "userId": f"P{i:04d}" if i % 2 else None,
            "visitorType": ["new", "returning"][i % 2],
            "referrerType": ["direct", "search", "website", "campaign", "social", "direct"][i],
            "referrerName": "", "deviceType": "Smartphone", "visitDuration": 30 * i,
            "actions": actions, "firstActionTimestamp": _unix(first),
            "lastActionTimestamp": _unix(first) + 30 * i,
            "actionDetails": [{"type": "action", "url": "https://saypro.online/ads/",
                               "timestamp": _unix(first)} for _ in range(actions)],
        })
    return out


def categories() -> list[dict[str, Any]]:
    return [{"id": 1 + i, "name": f"Category {i}", "idnumber": "events" if i == 0 else f"c{i}",
             "parent": 0} for i in range(N)]


def courses() -> list[dict[str, Any]]:
    return [{"id": 1 + i, "categoryid": 0 if i == 0 else i, "fullname": f"Course {i}",
             "shortname": f"C{i}", "format": "site" if i == 0 else "topics",
             "startdate": _unix(T0), "enddate": 0 if i % 2 else _unix(T0 + timedelta(days=90))}
            for i in range(N)]


def enrolments() -> list[dict[str, Any]]:
    return [{"courseid": 2 + i % 2, "id": 300 + i, "idnumber": f"P{i:04d}",
             "firstaccess": _unix(T0), "lastaccess": _unix(T0 + timedelta(days=i)),
             "lastcourseaccess": 0 if i == 5 else _unix(T0 + timedelta(days=i)),
             "roles": [{"roleid": 5, "shortname": "student"}]} for i in range(N)]


def completions() -> list[dict[str, Any]]:
    return [{"courseid": 2 + i % 2, "userid": 300 + i,
             "completionstatus": {"completed": i % 2 == 0, "aggregation": 1,
                                  "completions": []}, "warnings": []} for i in range(N)]


def grades() -> list[dict[str, Any]]:
    return [{"courseid": 2 + i % 2, "userid": 300 + i, "userfullname": "X",
             "gradeitems": [{"itemtype": "mod", "graderaw": 5, "grademax": 10},
                            {"itemtype": "course", "graderaw": 40 + 10 * i, "grademax": 100,
                             "gradepass": 50}]} for i in range(N)]


def registration() -> list[dict[str, Any]]:
    provinces = ["GP", "EC", "LP", "KZN", "WC", "gauteng"]
    return [{
        "_id": 800 + i, "_submission_time": _iso(T0 + timedelta(days=i)).rstrip("Z"),
        "group_id/beneficiary_id": f"P{i:04d}", "group_demo/province": provinces[i],
        "group_demo/settlement_type": ["urban", "peri_urban", "rural"][i % 3],
        "group_demo/age_band": ["15-17", "18-24", "25-34", "35-44", "45-54", "55+"][i],
        "group_demo/gender": ["female", "male", "other", "prefer_not"][i % 4],
        "group_work/employment_status": ["employed", "self_employed", "informal_trader",
                                         "unemployed", "studying", "unemployed"][i],
        "group_demo/single_parent": ["yes", "no"][i % 2], "language": "zu",
        "phone": "0821234567",
    } for i in range(N)]


def feedback() -> list[dict[str, Any]]:
    return [{
        "_id": 850 + i, "_submission_time": _iso(T0 + timedelta(days=i)).rstrip("Z"),
        "beneficiary_id": f"P{i:04d}", "programme": "digital_skills",
        "group_scores/nps": str(5 + i), "group_scores/csat": str(1 + i % 5),
        "employment_status": ["employed", "unemployed"][i % 2], "comment": "Useful course",
    } for i in range(N)]


def forms() -> list[dict[str, Any]]:
    return [{
        "uid": uid, "name": name, "version_id": "v1", "asset_type": "survey",
        "content": {"survey": [{"type": "select_one", "name": "gender",
                                "select_from_list_name": "genders"}],
                    "choices": [{"list_name": "genders", "name": "female", "label": ["Female"]}]},
    } for uid, name in ((f"aForm{i}", f"Form {i}") for i in range(N))]


CLEAN: dict[tuple[str, str], Callable[[], list[dict[str, Any]]]] = {
    ("zendesk", "tickets"): tickets,
    ("zendesk", "ticket_events"): ticket_events,
    ("zendesk", "users"): users,
    ("zendesk", "articles"): articles,
    ("matomo", "visits"): visits,
    ("moodle", "categories"): categories,
    ("moodle", "courses"): courses,
    ("moodle", "enrolments"): enrolments,
    ("moodle", "completions"): completions,
    ("moodle", "grades"): grades,
    ("kobo", "registration"): registration,
    ("kobo", "feedback"): feedback,
    ("kobo", "forms"): forms,
}


def clean(source: str, entity: str) -> list[dict[str, Any]]:
    """Fresh copies of the clean records of an entity."""
    return copy.deepcopy(CLEAN[(source, entity)]())


@dataclass(frozen=True)
class Drift:
    """One entity's drift cases. `drop`: an optional key to remove (None: every field is
    required); `reads`: (key, value of another JSON type that still reads, warning text);
    `breaks`: (key, value that no longer reads, quarantine rule, reason)."""

    source: str
    entity: str
    drop: str | None
    reads: tuple[str, Any, str]
    breaks: tuple[str, Any, str, str]


DRIFTS = [
    Drift("zendesk", "tickets", "priority",
          ("requester_id", "502", "field `requester_id` has type string in 1 of 6 records, "
                                  "expected number"),
          ("status", {"name": "open"}, "status_type",
           """status '{"name":"open"}' is not a text value""")),
    Drift("zendesk", "ticket_events", "updater_id",
          ("timestamp", "1740816000", "field `timestamp` has type string"),
          ("event_type", ["Audit"], "event_type_type", """event_type '["Audit"]' is not a text""")),
    Drift("zendesk", "users", "external_id",
          ("external_id", 12345, "field `external_id` has type number in 1 of 6 records, "
                                 "expected string"),
          ("role", {"name": "agent"}, "role_type", "role '{\"name\":\"agent\"}' is not a text")),
    Drift("zendesk", "articles", "vote_sum",
          ("vote_count", "2", "field `vote_count` has type string"),
          ("title", ["How to"], "title_type", "title '[\"How to\"]' is not a text value")),
    Drift("matomo", "visits", "deviceType",
          ("userId", 42, "field `userId` has type number in 1 of 6 records, expected string"),
          ("deviceType", ["Smartphone"], "deviceType_type",
           "deviceType '[\"Smartphone\"]' is not a text value")),
    Drift("moodle", "categories", "idnumber",
          ("parent", "0", "field `parent` has type string"),
          ("name", {"en": "Events"}, "name_type", "name '{\"en\":\"Events\"}' is not a text")),
    Drift("moodle", "courses", "shortname",
          ("startdate", "1740816000", "field `startdate` has type string"),
          ("format", ["topics"], "format_type", "format '[\"topics\"]' is not a text value")),
    Drift("moodle", "enrolments", "lastcourseaccess",
          ("lastaccess", "1740816000", "moodle enrolments: field `lastaccess` has type string in "
                                       "1 of 6 records, expected number (the values still read)"),
          ("lastaccess", "yesterday", "lastaccess_type",
           "lastaccess 'yesterday' is not a unix timestamp")),
    Drift("moodle", "completions", None,
          ("userid", "302", "field `userid` has type string"),
          ("completionstatus", ["complete"], "completionstatus_type",
           "completionstatus '[\"complete\"]' is not a JSON object")),
    Drift("moodle", "grades", "gradeitems",
          ("courseid", "2", "field `courseid` has type string"),
          ("gradeitems", {"itemtype": "course"}, "gradeitems_type", "is not a JSON array")),
    Drift("kobo", "registration", "language",
          ("_id", "802", "kobo registration: field `_id` has type string in 1 of 6 records, "
                         "expected number"),
          ("group_demo/gender", {"label": "Female"}, "gender_type",
           "gender '{\"label\":\"Female\"}' is not a text value")),
    Drift("kobo", "feedback", "comment",
          ("_id", "852", "kobo feedback: field `_id` has type string"),
          ("group_scores/nps", ["9"], "nps_type", "nps '[\"9\"]' is not an integer")),
]


def load_raw(warehouse: Path, source: str, entity: str, records: list[dict[str, Any]],
             load_id: str = "20250301T080000-aaaaaaaa", *, replace: bool = True,
             record_keys: list[str] | None = None) -> None:
    """Write records as one load into `raw.<source>__<entity>` (latest version per key).

    The key comes from ingestion's key expression unless `record_keys` is given (to build
    tables the raw builder would not, e.g. duplicate keys).
    """
    table = f"raw.{source}__{entity}"
    loaded_at = datetime.now(UTC)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({RAW_COLUMNS})")
        con.execute("CREATE OR REPLACE TEMP TABLE _in (record JSON, record_index INTEGER, "
                    "forced_key VARCHAR)")
        if records:
            con.executemany("INSERT INTO _in VALUES (?, ?, ?)", [
                [json.dumps(r), i, record_keys[i] if record_keys else None]
                for i, r in enumerate(records)])
        key = ENTITIES[(source, entity)]
        landing = f"landing/{source}/{entity}/{load_id}/000001.json"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _rows AS
            SELECT coalesce(forced_key, {key}, 'nokey-' || record_index) AS record_key,
                   record, '{source}' AS source,
                   '{entity}' AS entity, '{load_id}' AS load_id,
                   ?::TIMESTAMPTZ AS loaded_at, '{landing}' AS landing_file, record_index
            FROM _in""", [loaded_at])
        if replace:
            con.execute(f"DELETE FROM {table} WHERE record_key IN "
                        "(SELECT record_key FROM _rows)")
        con.execute(f"INSERT INTO {table} SELECT * FROM _rows")


def quarantine_rows(warehouse: Path) -> list[tuple[str, str, str, str]]:
    """(entity, record_key, rule, reason) of every quarantine row, sorted."""
    with duckdb.connect(str(warehouse)) as con:
        return con.execute("SELECT entity, record_key, rule, reason FROM quality.quarantine "
                           "ORDER BY ALL").fetchall()
