"""Validation flow: new loads only, healing, blocked batches, history, report, SQL rules vs GX."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from quality_data import AS_OF, clean, load_raw, quarantine_rows

from quality.gx_suite import disagreements
from quality.history import ensure_schema
from quality.spec import flatten_sql
from quality.suites import SPECS, get_spec
from quality.validate import _rule_outcome, _rule_outcomes, validate_all, validate_entity


def _q(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse)) as con:
        return con.execute(sql).fetchall()


def test_missing_and_empty_tables_pass(warehouse: Path) -> None:
    res = validate_entity(warehouse, "zendesk", "tickets", run_id="r1", as_of=AS_OF)
    assert (res.passed, res.rows_checked, res.expectations) == (True, 0, [])
    load_raw(warehouse, "matomo", "visits", [])
    res = validate_entity(warehouse, "matomo", "visits", run_id="r1", as_of=AS_OF)
    assert (res.passed, res.rows_checked, res.rows_quarantined) == (True, 0, 0)


def test_only_new_loads_are_validated(warehouse: Path) -> None:
    load_raw(warehouse, "zendesk", "users", clean("zendesk", "users"), "L1")
    assert validate_entity(warehouse, "zendesk", "users", run_id="r1",
                           as_of=AS_OF).rows_checked == 6
    again = validate_entity(warehouse, "zendesk", "users", run_id="r2", as_of=AS_OF)
    assert (again.rows_checked, again.passed) == (0, True)
    everything = validate_entity(warehouse, "zendesk", "users", run_id="r3", as_of=AS_OF,
                                 only_new_loads=False)
    assert everything.rows_checked == 6
    assert _q(warehouse, "SELECT load_id, row_count FROM quality.validated_loads") == [
        ("L1", 6)]


def test_corrected_record_heals_without_cleanup(warehouse: Path) -> None:
    records = clean("zendesk", "tickets")
    records[2]["status"] = "reslved"
    load_raw(warehouse, "zendesk", "tickets", records, "L1")
    first = validate_entity(warehouse, "zendesk", "tickets", run_id="r1", as_of=AS_OF)
    assert (first.passed, first.rows_quarantined) == (True, 1)
    fixed = clean("zendesk", "tickets")[2]
    load_raw(warehouse, "zendesk", "tickets", [fixed], "L2")
    second = validate_entity(warehouse, "zendesk", "tickets", run_id="r2", as_of=AS_OF)
    assert (second.rows_checked, second.rows_quarantined, second.passed) == (1, 0, True)
    # the old quarantine row stays as history but no longer matches the current raw version
    assert _q(warehouse, "SELECT record_key, load_id FROM quality.quarantine") == [
        ("1002", "L1")]
    usable = _q(warehouse, """SELECT count(*) FROM raw.zendesk__tickets t WHERE NOT EXISTS (
        SELECT 1 FROM quality.quarantine q WHERE q.source = 'zendesk'
          AND q.entity = 'tickets' AND q.record_key = t.record_key
          AND q.load_id = t.load_id)""")
    assert usable == [(6,)]


def test_blocked_batch_is_rechecked_until_fixed(warehouse: Path) -> None:
    records = clean("zendesk", "tickets")
    for r in records:
        r["status"] = "unknown"
    load_raw(warehouse, "zendesk", "tickets", records, "L1")
    first = validate_entity(warehouse, "zendesk", "tickets", run_id="r1", as_of=AS_OF)
    assert not first.passed
    again = validate_entity(warehouse, "zendesk", "tickets", run_id="r2", as_of=AS_OF)
    assert not again.passed and again.rows_checked == 6
    assert len(quarantine_rows(warehouse)) == 6  # re-validation does not duplicate rows
    load_raw(warehouse, "zendesk", "tickets", clean("zendesk", "tickets"), "L2")
    fixed = validate_entity(warehouse, "zendesk", "tickets", run_id="r3", as_of=AS_OF)
    assert (fixed.passed, fixed.rows_checked, fixed.rows_quarantined) == (True, 6, 0)
    assert _q(warehouse, "SELECT load_id FROM quality.validated_loads") == [("L2",)]


def test_history_tables_are_filled(warehouse: Path) -> None:
    records = clean("kobo", "feedback")
    records[0]["group_scores/nps"] = "11"
    load_raw(warehouse, "kobo", "feedback", records)
    res = validate_entity(warehouse, "kobo", "feedback", run_id="r1", as_of=AS_OF)
    runs = _q(warehouse, "SELECT run_id, entities, rows_checked, rows_quarantined, passed, "
                         "finished_at >= started_at FROM quality.validation_runs")
    assert runs == [("r1", 1, 6, 1, True, True)]
    results = _q(warehouse, "SELECT expectation, column_name, severity, success, "
                            "unexpected_count, examples FROM quality.validation_results "
                            "WHERE run_id = 'r1' ORDER BY expectation")
    assert len(results) == len(res.expectations)
    [nps] = [r for r in results if r[0] == "nps_range"]
    assert nps[1:5] == ("nps", "error", False, 1)
    assert json.loads(nps[5])[0]["reason"] == "nps 11 outside the range 0..10"
    # re-running the same run id replaces, never duplicates
    validate_entity(warehouse, "kobo", "feedback", run_id="r1", as_of=AS_OF,
                    only_new_loads=False)
    assert _q(warehouse, "SELECT count(*) FROM quality.validation_runs") == [(1,)]
    assert _q(warehouse, "SELECT count(*) FROM quality.validation_results")[0][0] == len(
        results)


def test_ensure_schema_keeps_dbt_quarantine_table(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA quality")
        con.execute("""create table quality.quarantine (source varchar, entity varchar,
            record_key varchar, load_id varchar, landing_file varchar, rule varchar,
            reason varchar, quarantined_at timestamptz, run_id varchar)""")
        con.execute("INSERT INTO quality.quarantine (source) VALUES ('kept')")
        ensure_schema(con)
        ensure_schema(con)
        assert con.execute("SELECT source FROM quality.quarantine").fetchall() == [("kept",)]
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'quality'").fetchall()}
    assert {"quarantine", "validated_loads", "validation_runs",
            "validation_results"} <= tables


def test_ensure_schema_adds_the_later_columns_to_older_tables(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA quality")
        con.execute("""CREATE TABLE quality.validated_loads (source VARCHAR, entity VARCHAR,
            load_id VARCHAR, run_id VARCHAR, validated_at TIMESTAMPTZ)""")
        con.execute("INSERT INTO quality.validated_loads (load_id) VALUES ('L0')")
        ensure_schema(con)
        ensure_schema(con)
        added = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'quality' AND column_name IN ('row_count', 'rows_set_aside') "
            "ORDER BY ALL").fetchall()
        kept = con.execute("SELECT load_id, row_count FROM quality.validated_loads").fetchall()
    assert added == [("validated_loads", "row_count"), ("validation_entities", "rows_set_aside"),
                     ("validation_runs", "rows_set_aside")]
    assert kept == [("L0", None)]


def test_volume_anomaly_warns(warehouse: Path) -> None:
    for i in range(3):
        recs = clean("matomo", "visits")
        for j, r in enumerate(recs):
            r["idVisit"] = 10_000 * (i + 1) + j
        load_raw(warehouse, "matomo", "visits", recs, f"L{i}")
        assert validate_entity(warehouse, "matomo", "visits", run_id=f"r{i}",
                               as_of=AS_OF).warnings == []
    big = [r for _ in range(4) for r in clean("matomo", "visits")]
    for j, r in enumerate(big):
        r["idVisit"] = 90_000 + j
    load_raw(warehouse, "matomo", "visits", big, "L9")
    res = validate_entity(warehouse, "matomo", "visits", run_id="r9", as_of=AS_OF)
    assert res.passed
    [w] = res.warnings
    assert "load L9 has 24 rows vs median 6 of the last 3 validated loads" in w


def _fingerprint(res: object, warehouse: Path) -> tuple:
    exps = sorted((e["name"], e["success"], e["unexpected_count"])
                  for e in res.expectations)  # type: ignore[attr-defined]
    return (res.rows_checked, res.rows_quarantined, res.passed,  # type: ignore[attr-defined]
            exps, quarantine_rows(warehouse))


def test_sql_rules_agree_with_the_gx_suite(tmp_path: Path) -> None:
    """The SQL row rules and the GX suite give the same failing keys and counts on the same
    batch (planted bad rows and a duplicate key), and a difference would be caught."""
    records = [r for _ in range(3) for r in clean("zendesk", "tickets")]
    for i, r in enumerate(records):
        r["id"] = 3000 + i
    records[1]["status"] = "reslved"
    records[7]["created_at"] = "2030-01-01T00:00:00Z"
    records[12]["priority"] = "p1"
    records[15]["id"] = records[4]["id"]  # duplicate key (blocking)
    keys = [str(r["id"]) for r in records]
    wh = tmp_path / "w.duckdb"
    load_raw(wh, "zendesk", "tickets", records, record_keys=keys)
    res = validate_entity(wh, "zendesk", "tickets", run_id="r1", as_of=AS_OF)
    agree = next(e for e in res.expectations if e["name"] == "gx_suite_agrees_on_sample")
    assert agree["success"] and f"on {len(records)} sampled rows" in agree["expectation"]
    assert sorted((k, rule) for _, k, rule, _ in quarantine_rows(wh)) == [
        ("3001", "status_accepted_values"), ("3007", "created_at_not_in_future"),
        ("3007", "updated_at_not_before_created_at"), ("3012", "priority_accepted_values")]
    assert len(res.blocking_failures) == 2  # record_key_unique and id_unique

    spec = get_spec("zendesk", "tickets")
    with duckdb.connect(str(wh)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE TEMP TABLE _q_batch AS SELECT * EXCLUDE (record) FROM ("
                    + flatten_sql(spec, "true", {spec.table}) + ")")
        sql = {r.name: _rule_outcome(con, r, AS_OF, "_q_batch") for r in spec.rules}
        df = con.execute("SELECT * EXCLUDE (load_id, landing_file, _new_fields, "
                         "_missing_fields, _type_changes) FROM _q_batch").df()
    assert disagreements(spec, AS_OF, df, sql) == []
    assert sql["status_accepted_values"].unexpected_count == 1
    sql["status_accepted_values"].failing_rows = [{"record_key": "3002"}]
    assert disagreements(spec, AS_OF, df, sql) == [
        "status_accepted_values: failing keys differ (GX ['3001'], SQL ['3002'])"]


def test_one_pass_rule_counts_equal_rule_by_rule(tmp_path: Path) -> None:
    """Counting every rule in one pass gives each rule's own outcome (uniqueness windows
    included); a batch without a column a rule reads falls back to one rule at a time, so the
    errors are those rules' and the other rules are still evaluated."""
    records = [r for _ in range(2) for r in clean("zendesk", "tickets")]
    for i, r in enumerate(records):
        r["id"] = 4000 + i
    records[1]["status"] = "reslved"
    records[3]["priority"] = None
    records[8]["id"] = records[2]["id"]
    wh = tmp_path / "w.duckdb"
    load_raw(wh, "zendesk", "tickets", records, record_keys=[str(r["id"]) for r in records])
    spec = get_spec("zendesk", "tickets")
    with duckdb.connect(str(wh)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE TEMP TABLE _q_batch AS SELECT * EXCLUDE (record) FROM ("
                    + flatten_sql(spec, "true", {spec.table}) + ")")
        one_pass = _rule_outcomes(con, spec.rules, AS_OF, "_q_batch")
        assert one_pass == {r.name: _rule_outcome(con, r, AS_OF, "_q_batch") for r in spec.rules}
        assert (one_pass["id_unique"].unexpected_count,
                one_pass["status_accepted_values"].unexpected_count) == (2, 1)
        con.execute("CREATE TEMP TABLE _q_no_status AS SELECT * EXCLUDE (status) FROM _q_batch")
        fallback = _rule_outcomes(con, spec.rules, AS_OF, "_q_no_status")
    failed = {name for name, out in fallback.items() if out.error}
    assert failed == {"status_required", "status_accepted_values"}
    assert all("status" in (fallback[name].error or "") for name in failed)
    assert fallback["id_unique"] == one_pass["id_unique"]


def test_validate_all_writes_report_with_every_expectation(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    for source, entity in SPECS:
        records = clean(source, entity)
        load_raw(wh, source, entity, records)
    bad = clean("zendesk", "tickets")
    bad[0]["status"] = "reslved"
    load_raw(wh, "zendesk", "tickets", bad[:1], "L2")
    results = validate_all(wh, run_id="run-1", as_of=AS_OF, report_dir=tmp_path / "q")
    assert len(results) == len(SPECS) and all(r.passed for r in results)
    html = (tmp_path / "q" / "validation_run-1.html").read_text()
    for r in results:
        assert f'id="{r.source}__{r.entity}"' in html
        for e in r.expectations:
            assert f"{r.source}__{r.entity}__{e['name']}" in html
    assert "status &#39;reslved&#39; not in accepted values" in html
    runs = _q(wh, "SELECT entities, rows_quarantined, passed FROM quality.validation_runs")
    assert runs == [(len(SPECS), 1, True)]
