"""Schema drift per entity: a new field, a missing optional field and a changed type each give
a warning naming the source, entity and field, or quarantine the record with a reason naming
the field when its value no longer reads; never a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from quality_data import AS_OF, CLEAN, DRIFTS, Drift, clean, load_raw, quarantine_rows

from quality.validate import validate_all, validate_entity

Record = dict[str, Any]
IDS = [f"{d.source}-{d.entity}" for d in DRIFTS]


def _validate(warehouse: Path, d: Drift, records: list[Record]) -> Any:
    load_raw(warehouse, d.source, d.entity, records)
    return validate_entity(warehouse, d.source, d.entity, run_id="r1", as_of=AS_OF)


def _label(d: Drift) -> str:
    return f"{d.source} {d.entity.replace('_', ' ')}"


def test_every_entity_with_records_is_covered() -> None:
    assert {(d.source, d.entity) for d in DRIFTS} == set(CLEAN) - {("kobo", "forms")}


@pytest.mark.parametrize("d", DRIFTS, ids=IDS)
def test_new_field_warns(warehouse: Path, d: Drift) -> None:
    records = clean(d.source, d.entity)
    key = "group_extra/foo" if d.source == "kobo" else "foo"
    records[1][key] = "bar"
    records[3][key] = {"nested": 1}
    res = _validate(warehouse, d, records)
    assert (res.passed, res.rows_quarantined) == (True, 0)
    [w] = res.warnings
    assert w.startswith(f"{_label(d)}: new field `{key}` (not used by the pipeline) in 2 of 6 "
                        "records; e.g. ")
    [e] = [e for e in res.expectations if e["name"] == "no_new_fields"]
    assert (e["success"], e["severity"], e["column"], e["unexpected_count"]) == (
        False, "warn", key, 2)


@pytest.mark.parametrize("d", [d for d in DRIFTS if d.drop], ids=[i for i, d in zip(
    IDS, DRIFTS, strict=True) if d.drop])
def test_missing_optional_field_warns(warehouse: Path, d: Drift) -> None:
    assert d.drop
    records = clean(d.source, d.entity)
    # Kobo leaves unanswered questions out: only a question absent from every record warns.
    dropped_from = records if d.source == "kobo" else records[2:4]
    for r in dropped_from:
        del r[d.drop]
    res = _validate(warehouse, d, records)
    assert (res.passed, res.rows_quarantined) == (True, 0)
    label = d.drop.rpartition("/")[2]
    count = len(dropped_from)
    assert any(w.startswith(f"{_label(d)}: optional field `{label}` missing in {count} of 6 "
                            "records; e.g. ") for w in res.warnings), res.warnings
    [e] = [e for e in res.expectations if e["name"] == "optional_fields_present"]
    assert (e["success"], e["column"], e["unexpected_count"]) == (False, label, count)


def test_kobo_question_unanswered_in_some_records_does_not_warn(warehouse: Path) -> None:
    records = clean("kobo", "feedback")
    for r in records[:5]:
        del r["comment"]
    load_raw(warehouse, "kobo", "feedback", records)
    res = validate_entity(warehouse, "kobo", "feedback", run_id="r1", as_of=AS_OF)
    assert (res.passed, res.rows_quarantined, res.warnings) == (True, 0, [])


@pytest.mark.parametrize("d", DRIFTS, ids=IDS)
def test_type_change_that_still_reads_warns(warehouse: Path, d: Drift) -> None:
    key, value, text = d.reads
    records = clean(d.source, d.entity)
    records[2][key] = value
    res = _validate(warehouse, d, records)
    assert (res.passed, res.rows_quarantined) == (True, 0), res.warnings
    [w] = res.warnings
    assert w.startswith(f"{_label(d)}: field `") and text in w
    [e] = [e for e in res.expectations if e["name"] == "field_types_unchanged"]
    assert (e["success"], e["column"], e["unexpected_count"]) == (
        False, key.rpartition("/")[2], 1)


@pytest.mark.parametrize("d", DRIFTS, ids=IDS)
def test_type_change_that_no_longer_reads_quarantines(warehouse: Path, d: Drift) -> None:
    key, value, rule, reason = d.breaks
    records = clean(d.source, d.entity)
    records[2][key] = value
    res = _validate(warehouse, d, records)
    assert (res.passed, res.rows_quarantined) == (True, 1)
    reasons = {r[2]: r[3] for r in quarantine_rows(warehouse)}
    assert reason in reasons[rule], reasons
    assert not any("has type" in w for w in res.warnings)  # reported once, as the quarantine


@pytest.mark.parametrize(("source", "entity", "old", "new"), [
    ("matomo", "visits", "deviceType", "device_type"),
    ("kobo", "feedback", "beneficiary_id", "beneficiaryId"),
])
def test_renamed_field_warns_twice_and_quarantines_nothing(
        warehouse: Path, source: str, entity: str, old: str, new: str) -> None:
    records = clean(source, entity)
    for r in records:
        r[new] = r.pop(old)
    load_raw(warehouse, source, entity, records)
    res = validate_entity(warehouse, source, entity, run_id="r1", as_of=AS_OF)
    assert (res.passed, res.rows_quarantined) == (True, 0)
    assert [w.split(";")[0] for w in res.warnings] == [
        f"{source} {entity}: new field `{new}` (not used by the pipeline) in 6 of 6 records",
        f"{source} {entity}: optional field `{old}` missing in 6 of 6 records",
    ]


def test_csv_drop_files_do_not_warn_about_json_types(warehouse: Path) -> None:
    records = clean("moodle", "enrolments")
    for r in records:
        r.update({k: str(v) for k, v in r.items() if isinstance(v, int)})
    load_raw(warehouse, "moodle", "enrolments", records)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE raw.moodle__enrolments SET landing_file = "
                    "replace(landing_file, '.json', '.csv')")
    res = validate_entity(warehouse, "moodle", "enrolments", run_id="r1", as_of=AS_OF)
    assert (res.passed, res.rows_quarantined, res.warnings) == (True, 0, [])


def test_odd_records_do_not_crash(warehouse: Path) -> None:
    """A record that is not an object, or has a key with an empty name, is checked like any."""
    for source, entity in (("zendesk", "tickets"), ("kobo", "feedback")):
        records: list[Any] = clean(source, entity)
        records[1] = ["not", "an", "object"]
        records[2] = {**records[2], "": 1}
        load_raw(warehouse, source, entity, records)
        res = validate_entity(warehouse, source, entity, run_id="r1", as_of=AS_OF)
        assert res.rows_checked == 6 and res.rows_quarantined >= 1
        assert any("nokey-1" in r[1] for r in quarantine_rows(warehouse) if r[0] == entity)


def test_drift_lands_in_history_and_report(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    records = clean("moodle", "enrolments")
    records[0]["lastaccess"] = str(records[0]["lastaccess"])
    records[1]["newfield"] = True
    load_raw(wh, "moodle", "enrolments", records)
    [res] = [r for r in validate_all(wh, run_id="run-1", as_of=AS_OF, report_dir=tmp_path / "q")
             if r.entity == "enrolments"]
    assert res.passed and len(res.warnings) == 2
    html = (tmp_path / "q" / "validation_run-1.html").read_text()
    assert "moodle enrolments: new field `newfield` (not used by the pipeline) in 1 of 6" in html
    assert "field `lastaccess` has type string in 1 of 6 records, expected number" in html
    with duckdb.connect(str(wh)) as con:
        rows = con.execute("""SELECT expectation, column_name, severity, success,
                                     unexpected_count, examples
                              FROM quality.validation_results
                              WHERE entity = 'enrolments' AND NOT success ORDER BY 1""").fetchall()
        [warnings] = con.execute("SELECT warnings FROM quality.validation_entities "
                                 "WHERE entity = 'enrolments'").fetchone()
    assert [r[:5] for r in rows] == [("field_types_unchanged", "lastaccess", "warn", False, 1),
                                     ("no_new_fields", "newfield", "warn", False, 1)]
    assert json.loads(rows[1][5])[0]["values"] == {"field": "newfield"}
    assert json.loads(warnings) == res.warnings
