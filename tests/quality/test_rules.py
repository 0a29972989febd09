"""Each entity's suite: clean data passes, each bad variant quarantines exactly the bad rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from quality_data import AS_OF, CLEAN, clean, load_raw, quarantine_rows

from quality.validate import validate_entity

Record = dict[str, Any]


@pytest.mark.parametrize(("source", "entity"), list(CLEAN), ids=lambda x: str(x))
def test_clean_data_passes(warehouse: Path, source: str, entity: str) -> None:
    load_raw(warehouse, source, entity, clean(source, entity))
    res = validate_entity(warehouse, source, entity, run_id="r1", as_of=AS_OF)
    assert res.passed, res.blocking_failures
    assert (res.rows_checked, res.rows_quarantined) == (6, 0)
    assert res.warnings == []
    failed = [e["name"] for e in res.expectations if not e["success"]]
    assert failed == []
    assert quarantine_rows(warehouse) == []


def _set(path: str, value: Any) -> Callable[[Record], None]:
    """Mutator setting a (dotted) key; `...` deletes it."""
    def mutate(rec: Record) -> None:
        *parents, last = path.split(".")
        target = rec
        for p in parents:
            target = target[p]
        if value is ...:
            target.pop(last, None)
        else:
            target[last] = value
    return mutate


def _child_status(rec: Record) -> None:
    rec["child_events"][1]["status"] = "reslved"


BAD = [
    # zendesk tickets
    ("zendesk", "tickets", _set("status", "reslved"), "status_accepted_values",
     "status 'reslved' not in accepted values new|open|pending|hold|solved|closed"),
    ("zendesk", "tickets", _set("priority", "critical"), "priority_accepted_values",
     "priority 'critical' not in accepted values urgent|high|normal|low"),
    ("zendesk", "tickets", _set("created_at", "2026-02-01T00:00:00Z"),
     "created_at_not_in_future", "created_at 2026-02-01T00:00:00+00:00 is in the future"),
    ("zendesk", "tickets", _set("updated_at", "2025-01-01T00:00:00Z"),
     "updated_at_not_before_created_at",
     "updated_at 2025-01-01T00:00:00+00:00 is before created_at 2025-03-03T08:00:00+00:00"),
    ("zendesk", "tickets", _set("id", "abc"), "id_type", "id 'abc' is not an integer"),
    ("zendesk", "tickets", _set("id", ...), "id_required", "required field id is missing"),
    ("zendesk", "tickets", _set("created_at", "yesterday"), "created_at_type",
     "created_at 'yesterday' is not a timestamp"),
    ("zendesk", "tickets", _set("status", ...), "status_required",
     "required field status is missing"),
    ("zendesk", "tickets", _set("tags", "billing"), "tags_type",
     "tags 'billing' is not a JSON array"),
    ("zendesk", "tickets", _set("satisfaction_rating.score", "great"),
     "satisfaction_score_accepted_values", "satisfaction_score 'great' not in accepted"),
    # zendesk ticket events
    ("zendesk", "ticket_events", _child_status, "child_event_status_accepted_values",
     "a child event sets status 'reslved', not in accepted values"),
    ("zendesk", "ticket_events", _set("ticket_id", "x1"), "ticket_id_type",
     "ticket_id 'x1' is not an integer"),
    ("zendesk", "ticket_events", _set("created_at", "2027-01-01T00:00:00Z"),
     "created_at_not_in_future", "is in the future"),
    ("zendesk", "ticket_events", _set("child_events", {"a": 1}), "child_events_type",
     "is not a JSON array"),
    # zendesk users and articles
    ("zendesk", "users", _set("role", "superuser"), "role_accepted_values",
     "role 'superuser' not in accepted values end-user|agent|admin"),
    ("zendesk", "users", _set("role", ...), "role_required", "required field role"),
    ("zendesk", "articles", _set("vote_count", -1), "vote_count_range",
     "vote_count -1 is negative"),
    ("zendesk", "articles", _set("updated_at", "2024-12-31T00:00:00Z"),
     "updated_at_not_before_created_at", "is before created_at"),
    # matomo visits
    ("matomo", "visits", _set("visitorType", "old"), "visitorType_accepted_values",
     "visitorType 'old' not in accepted values new|returning"),
    ("matomo", "visits", _set("referrerType", "email"), "referrerType_accepted_values",
     "referrerType 'email' not in accepted values direct|search|website|campaign|social"),
    ("matomo", "visits", _set("lastActionTimestamp", 1700000000),
     "lastActionTimestamp_not_before_firstActionTimestamp", "is before firstActionTimestamp"),
    ("matomo", "visits", _set("visitDuration", "abc"), "visitDuration_type",
     "visitDuration 'abc' is not an integer"),
    ("matomo", "visits", _set("firstActionTimestamp", 1800000000),
     "firstActionTimestamp_not_in_future", "is in the future"),
    ("matomo", "visits", _set("actions", -1), "actions_range", "actions -1 is below 0"),
    ("matomo", "visits", _set("idVisit", ...), "idVisit_required",
     "required field idVisit is missing"),
    # moodle
    ("moodle", "categories", _set("name", ...), "name_required", "required field name"),
    ("moodle", "categories", _set("parent", "root"), "parent_type",
     "parent 'root' is not an integer"),
    ("moodle", "courses", _set("enddate", 1600000000), "enddate_not_before_startdate",
     "enddate 2020-09-13T12:26:40+00:00 is before startdate"),
    ("moodle", "enrolments", _set("lastaccess", 1800000000), "lastaccess_not_in_future",
     "lastaccess 2027-01-15"),
    ("moodle", "enrolments", _set("lastaccess", 1600000000),
     "lastaccess_not_before_firstaccess", "is before firstaccess"),
    ("moodle", "enrolments", _set("roles", "student"), "roles_type", "is not a JSON array"),
    ("moodle", "completions", _set("completionstatus.completed", "yes"), "completed_type",
     "completed 'yes' is not a boolean (true/false)"),
    ("moodle", "completions", _set("completionstatus", ...), "completionstatus_required",
     "required field completionstatus is missing"),
    ("moodle", "grades", _set("gradeitems", [{"itemtype": "course", "graderaw": 120,
                                               "grademax": 100}]),
     "graderaw_not_above_grademax", "course total graderaw 120 is above grademax 100"),
    ("moodle", "grades", _set("gradeitems", [{"itemtype": "course", "graderaw": "abc",
                                               "grademax": 100}]),
     "graderaw_type", "course total graderaw 'abc' is not a number"),
    # kobo
    ("kobo", "registration", _set("group_demo/province", "XX"), "province_accepted_values",
     "province 'xx' not in accepted values ec|fs|gp|kzn|lp|mp|nc|nw|wc|eastern_cape"),
    ("kobo", "registration", _set("group_demo/settlement_type", "city"),
     "settlement_type_accepted_values",
     "settlement_type 'city' not in accepted values urban|peri_urban|rural"),
    ("kobo", "registration", _set("group_demo/age_band", "18-25"), "age_band_accepted_values",
     "age_band '18-25' not in accepted values 15-17|18-24|25-34|35-44|45-54|55+"),
    ("kobo", "registration", _set("group_work/employment_status", "retired"),
     "employment_status_accepted_values", "employment_status 'retired' not in accepted"),
    ("kobo", "registration", _set("group_demo/gender", "f"), "gender_accepted_values",
     "gender 'f' not in accepted values female|male|other|prefer_not"),
    ("kobo", "registration", _set("group_demo/single_parent", "maybe"),
     "single_parent_accepted_values", "single_parent 'maybe' not in accepted values yes|no"),
    ("kobo", "registration", _set("_submission_time", "2026-03-01T00:00:00"),
     "_submission_time_not_in_future", "is in the future"),
    ("kobo", "feedback", _set("group_scores/nps", "11"), "nps_range",
     "nps 11 outside the range 0..10"),
    ("kobo", "feedback", _set("group_scores/csat", "0"), "csat_range",
     "csat 0 outside the range 1..5"),
    ("kobo", "feedback", _set("group_scores/nps", "abc"), "nps_type",
     "nps 'abc' is not an integer"),
    ("kobo", "feedback", _set("group_scores/nps", "7.5"), "nps_type",
     "nps '7.5' is not an integer"),
    ("kobo", "feedback", _set("employment_status", "retired"),
     "employment_status_accepted_values", "employment_status 'retired' not in accepted"),
    # kobo form definitions
    ("kobo", "forms", _set("content.survey", "not a list"), "survey_type",
     "survey 'not a list' is not"),
    ("kobo", "forms", _set("content", {"choices": []}), "survey_required",
     "required field survey is missing"),
]


@pytest.mark.parametrize(("source", "entity", "mutate", "rule", "reason"), BAD,
                         ids=[f"{b[1]}-{b[3]}" for b in BAD])
def test_bad_row_is_quarantined(warehouse: Path, source: str, entity: str,
                                mutate: Callable[[Record], None], rule: str,
                                reason: str) -> None:
    records = clean(source, entity)
    mutate(records[2])
    load_raw(warehouse, source, entity, records)
    res = validate_entity(warehouse, source, entity, run_id="r1", as_of=AS_OF)
    assert res.passed, res.blocking_failures
    assert (res.rows_checked, res.rows_quarantined) == (6, 1)
    # the GX suite ran on the whole batch and found the same failing rows as the SQL rules
    [agree] = [e for e in res.expectations if e["name"] == "gx_suite_agrees_on_sample"]
    assert agree["success"] and "on 6 sampled rows" in agree["expectation"]
    rows = quarantine_rows(warehouse)
    assert {r[1] for r in rows} == {_key_of(warehouse, source, entity, 2)}
    reasons = {r[2]: r[3] for r in rows}
    assert rule in reasons, rows
    assert reason in reasons[rule]
    [result] = [e for e in res.expectations if e["name"] == rule]
    assert (result["success"], result["unexpected_count"], result["action"]) == (
        False, 1, "quarantined")
    assert result["examples"][0]["reason"] == reasons[rule]
    assert any(rule in w for w in res.warnings)


# Records without a person id still count in segment `all` (DESIGN.md section 7): none of
# these is quarantined, and none warns (the vendor sends the id as null, or leaves it out where
# it leaves empty fields out: Kobo, Moodle).
ANONYMOUS = [
    ("kobo", "feedback", _set("beneficiary_id", ...)),
    ("kobo", "feedback", _set("beneficiary_id", "  ")),
    ("zendesk", "users", _set("external_id", None)),
    ("matomo", "visits", _set("userId", None)),
    ("moodle", "enrolments", _set("idnumber", ...)),
]


@pytest.mark.parametrize(("source", "entity", "mutate"), ANONYMOUS,
                         ids=[f"{a[1]}-{i}" for i, a in enumerate(ANONYMOUS)])
def test_records_without_person_id_pass(warehouse: Path, source: str, entity: str,
                                        mutate: Callable[[Record], None]) -> None:
    records = clean(source, entity)
    for r in records[1:4]:
        mutate(r)
    load_raw(warehouse, source, entity, records)
    res = validate_entity(warehouse, source, entity, run_id="r1", as_of=AS_OF)
    assert (res.passed, res.rows_quarantined, res.warnings) == (True, 0, [])
    assert quarantine_rows(warehouse) == []


def test_registration_without_person_id_lands_with_a_counted_warning(warehouse: Path) -> None:
    records = clean("kobo", "registration")
    del records[2]["group_id/beneficiary_id"]
    records[4]["group_id/beneficiary_id"] = None
    load_raw(warehouse, "kobo", "registration", records)
    res = validate_entity(warehouse, "kobo", "registration", run_id="r1", as_of=AS_OF)
    assert (res.passed, res.rows_quarantined) == (True, 0)
    assert quarantine_rows(warehouse) == []
    [w] = res.warnings
    assert "warning beneficiary_id_required on 2 of 6 rows" in w
    assert "802: no beneficiary_id: the registration names no person" in w
    [e] = [e for e in res.expectations if e["name"] == "beneficiary_id_required"]
    assert (e["severity"], e["row_rule"], e["unexpected_count"], e["action"]) == (
        "warn", False, 2, "warning")


def _key_of(warehouse: Path, source: str, entity: str, index: int) -> str:
    import duckdb

    with duckdb.connect(str(warehouse)) as con:
        return con.execute(f"SELECT record_key FROM raw.{source}__{entity} "
                           "WHERE record_index = ?", [index]).fetchone()[0]


def test_warn_rule_reports_without_quarantine(warehouse: Path) -> None:
    records = clean("zendesk", "tickets")
    del records[1]["requester_id"]
    load_raw(warehouse, "zendesk", "tickets", records)
    res = validate_entity(warehouse, "zendesk", "tickets", run_id="r1", as_of=AS_OF)
    assert res.passed and res.rows_quarantined == 0
    [w] = res.warnings
    assert "requester_id_required" in w and "1001" in w


def test_referential_check_warns(warehouse: Path) -> None:
    load_raw(warehouse, "zendesk", "tickets", clean("zendesk", "tickets"))
    events = clean("zendesk", "ticket_events")
    events[4]["ticket_id"] = 9999
    load_raw(warehouse, "zendesk", "ticket_events", events)
    res = validate_entity(warehouse, "zendesk", "ticket_events", run_id="r1", as_of=AS_OF)
    assert res.passed and res.rows_quarantined == 0
    [w] = res.warnings
    assert "ticket_id 9999 not found in raw.zendesk__tickets" in w
    [e] = [e for e in res.expectations if e["name"] == "ticket_id_exists_in_zendesk__tickets"]
    assert (e["severity"], e["success"], e["unexpected_count"]) == ("warn", False, 1)


def test_required_key_missing_from_batch_blocks(warehouse: Path) -> None:
    records = clean("zendesk", "tickets")
    for r in records:
        del r["id"]
    load_raw(warehouse, "zendesk", "tickets", records)
    res = validate_entity(warehouse, "zendesk", "tickets", run_id="r1", as_of=AS_OF)
    assert not res.passed
    [msg] = [m for m in res.blocking_failures if "id_required" in m]
    assert "fails on all 6 rows (column missing from every row)" in msg
    assert "nokey-0: required field id is missing" in msg


def test_type_broken_across_batch_blocks(warehouse: Path) -> None:
    records = clean("kobo", "feedback")
    for r in records:
        r["group_scores/nps"] = "n/a"
    load_raw(warehouse, "kobo", "feedback", records)
    res = validate_entity(warehouse, "kobo", "feedback", run_id="r1", as_of=AS_OF)
    assert not res.passed
    assert any("rule nps_type fails on all 6 rows" in m and "'n/a' is not an integer" in m
               for m in res.blocking_failures)


def test_duplicate_keys_block_with_examples(warehouse: Path) -> None:
    records = clean("zendesk", "tickets")
    records[3]["id"] = records[2]["id"]
    keys = [str(r["id"]) for r in records]
    load_raw(warehouse, "zendesk", "tickets", records, record_keys=keys)
    res = validate_entity(warehouse, "zendesk", "tickets", run_id="r1", as_of=AS_OF)
    assert not res.passed
    [msg] = [m for m in res.blocking_failures if "record_key_unique" in m]
    assert "failed on 2 of 6 rows" in msg and "record_key '1002' occurs more than once" in msg


def test_compound_key_duplicates_block(warehouse: Path) -> None:
    records = clean("moodle", "enrolments")
    records[3].update(courseid=records[1]["courseid"], id=records[1]["id"])
    load_raw(warehouse, "moodle", "enrolments", records,
             record_keys=[f"k{i}" for i in range(6)])
    res = validate_entity(warehouse, "moodle", "enrolments", run_id="r1", as_of=AS_OF)
    assert any("courseid_id_unique failed on 2 of 6 rows" in m and "courseid=3, id=301" in m
               for m in res.blocking_failures), res.blocking_failures


def test_too_many_quarantined_rows_block(warehouse: Path) -> None:
    records = [r for _ in range(5) for r in clean("zendesk", "tickets")]
    for i, r in enumerate(records):
        r["id"] = 2000 + i
        if i in (3, 10, 17, 24):
            r["status"] = "unknown"
    load_raw(warehouse, "zendesk", "tickets", records)
    res = validate_entity(warehouse, "zendesk", "tickets", run_id="r1", as_of=AS_OF)
    assert res.rows_quarantined == 4 and not res.passed
    [msg] = res.blocking_failures
    assert "4 of 30 rows quarantined (13.3% > 10% allowed)" in msg
    assert "2003: status 'unknown' not in accepted values" in msg


def test_reasons_do_not_quote_personal_data(warehouse: Path) -> None:
    """A failing value is quoted in the reason (quarantine, report, Dagster's log): a personal
    field is withheld, and e-mail addresses and phone numbers in other text are masked."""
    users = clean("zendesk", "users")
    users[0]["email"] = "broken.email.leaky@"
    load_raw(warehouse, "zendesk", "users", users)
    res = validate_entity(warehouse, "zendesk", "users", run_id="r1", as_of=AS_OF)
    assert res.passed and not any("leaky" in w for w in res.warnings)
    assert any("email [withheld] is not an e-mail address" in w for w in res.warnings)

    feedback = clean("kobo", "feedback")
    feedback[0]["comment"] = {"text": "call +27 82 555 2100 or thandi@example.org"}
    load_raw(warehouse, "kobo", "feedback", feedback)
    res = validate_entity(warehouse, "kobo", "feedback", run_id="r2", as_of=AS_OF)
    [(_, _, _, reason)] = [r for r in quarantine_rows(warehouse) if r[0] == "feedback"]
    assert "[phone]" in reason and "[email]" in reason, reason
    assert "555" not in reason and "thandi" not in reason
