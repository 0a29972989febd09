"""Drifted records of every source through the drop folder, raw tables, validation and dbt.

Each entity's drop file holds the clean records with four drifts (a new field, a missing
optional field, a changed type that still reads, a changed type that does not), plus an
anonymous feedback response, a registration without a person id and a feedback answer that is
not a choice of the form. Validation warns or quarantines, names the fields, and blocks
nothing; dbt then builds staging, the survey fact and dim_person over what is left (with their
tests), and the anonymous response reaches `marts.fct_survey_responses` with no person.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from quality_data import AS_OF, DRIFTS, clean

from quality.validate import EntityValidation, validate_all
from tests.conftest import DBT_PROJECT, run_dbt

FORM = {  # the deployed feedback form: programme is a select question
    "uid": "aFeedback", "name": "Feedback", "version_id": "v1", "asset_type": "survey",
    "content": {"survey": [{"type": "select_one", "name": "programme",
                            "select_from_list_name": "programmes"}],
                "choices": [{"list_name": "programmes", "name": "digital_skills",
                             "label": ["Digital skills"]}]},
}


@dataclass
class Run:
    warehouse: Path
    results: dict[str, EntityValidation]
    dbt: subprocess.CompletedProcess[str]
    run_results: dict[str, Any]

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()


def _drifted(source: str, entity: str) -> list[dict[str, Any]]:
    """Clean records 0-3 drifted as the entity's `Drift` says; 4 and 5 as below."""
    [d] = [d for d in DRIFTS if (d.source, d.entity) == (source, entity)]
    records = clean(source, entity)
    records[0]["group_extra/foo" if source == "kobo" else "foo"] = "bar"
    if d.drop:
        del records[1][d.drop]
    records[2][d.reads[0]] = d.reads[1]
    records[3][d.breaks[0]] = d.breaks[1]
    if entity == "feedback":
        del records[4]["beneficiary_id"]
        records[5]["programme"] = "cooking"
    if entity == "registration":
        del records[4]["group_id/beneficiary_id"]
    return records


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    from ingestion.drop_folder import load_drop_folder
    from ingestion.raw import rebuild_raw

    root = tmp_path_factory.mktemp("drift")
    drop, data_dir = root / "drop", root / "data"
    warehouse = data_dir / "warehouse.duckdb"
    for d in DRIFTS:
        path = drop / d.source / d.entity / "export.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_drifted(d.source, d.entity)))
    (drop / "kobo" / "forms").mkdir()
    (drop / "kobo" / "forms" / "feedback.json").write_text(json.dumps(FORM))
    for source in ("zendesk", "matomo", "moodle", "kobo"):
        loaded = load_drop_folder(drop / source, data_dir, source)
        assert not loaded.errors, loaded.errors
    rebuild_raw(warehouse, data_dir)
    results = validate_all(warehouse, run_id="drift", as_of=AS_OF, report_dir=root / "q")

    proc = run_dbt(DBT_PROJECT, root, data_dir, warehouse, "build", "--select", "staging",
                   "+fct_survey_responses", "+dim_person", "--indirect-selection", "cautious",
                   "--exclude-resource-type", "unit_test", vars_={"as_of": AS_OF.isoformat()})
    results_file = data_dir / "dbt_target" / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return Run(warehouse, {r.key: r for r in results}, proc, run_results)


def test_validation_names_every_drift_and_blocks_nothing(run: Run) -> None:
    for d in DRIFTS:
        res = run.results[f"{d.source}__{d.entity}"]
        label = f"{d.source} {d.entity.replace('_', ' ')}"
        assert res.passed, res.blocking_failures
        assert res.rows_checked == 6
        key = "group_extra/foo" if d.source == "kobo" else "foo"
        assert any(w.startswith(f"{label}: new field `{key}` (not used by the pipeline) in 1 of")
                   for w in res.warnings), res.warnings
        if d.drop and d.source != "kobo":  # a Kobo question unanswered once is not drift
            assert any(w.startswith(f"{label}: optional field `{d.drop}` missing in 1 of 6")
                       for w in res.warnings), res.warnings
        assert any(w.startswith(f"{label}: field `") and d.reads[2] in w
                   for w in res.warnings), res.warnings
        rule, reason = d.breaks[2:]
        assert res.rows_quarantined == 1
        assert any(e["name"] == rule and e["action"] == "quarantined"
                   and reason in e["examples"][0]["reason"] for e in res.expectations)


def test_dbt_builds_staging_and_survey_facts_over_drifted_records(run: Run) -> None:
    assert run.dbt.returncode == 0, run.dbt.stdout[-6000:] + run.dbt.stderr[-3000:]
    statuses = {r["unique_id"]: r["status"] for r in run.run_results["results"]}
    assert "model.saypro.fct_survey_responses" in statuses
    assert sum(u.startswith("test.") for u in statuses) > 20  # staging's own tests ran too
    assert [u for u, s in statuses.items() if s not in ("success", "pass", "warn")] == []
    # One row per raw record that is not quarantined (the site course aside).
    one_row_each = ("stg_zendesk__tickets", "stg_zendesk__users", "stg_zendesk__articles",
                    "stg_matomo__visits", "stg_moodle__categories", "stg_moodle__enrolments",
                    "stg_moodle__completions", "stg_kobo__registrations",
                    "stg_kobo__feedback_responses")
    for model in one_row_each:
        [(rows,)] = run.query(f"SELECT count(*) FROM staging.{model}")
        assert rows == 5, model  # 6 landed, 1 quarantined
    [(courses,)] = run.query("SELECT count(*) FROM staging.stg_moodle__courses")
    assert courses == 4  # 6 landed, 1 quarantined, the site course dropped
    # values whose JSON type changed still read
    assert run.query("SELECT last_access_at FROM staging.stg_moodle__enrolments "
                     "WHERE user_id = 302") == [(datetime(2025, 3, 1, 8, tzinfo=UTC),)]
    assert run.query("SELECT requester_id FROM staging.stg_zendesk__tickets "
                     "WHERE ticket_id = 1002") == [(502,)]


def test_anonymous_records_land_without_a_person(run: Run) -> None:
    assert run.query("SELECT form, response_id FROM marts.fct_survey_responses "
                     "WHERE person_id IS NULL ORDER BY ALL") == [
        ("feedback", 854), ("registration", 804)]
    assert run.query("SELECT count(*) FROM staging.stg_kobo__feedback_responses "
                     "WHERE person_id IS NULL") == [(1,)]
    # registrations P0000-P0005: P0003's is quarantined, the fifth names nobody
    assert run.query("SELECT person_id FROM marts.dim_person WHERE has_registration "
                     "ORDER BY ALL") == [("P0000",), ("P0001",), ("P0002",), ("P0005",)]


def test_unknown_form_choice_warns_with_its_question_and_code(run: Run) -> None:
    [test] = [r for r in run.run_results["results"]
              if r["unique_id"].endswith(".kobo_answers_are_form_choices")]
    assert (test["status"], test["failures"]) == ("warn", 1)
    compiled = next((run.warehouse.parent / "dbt_target" / "compiled").rglob(
        "kobo_answers_are_form_choices.sql")).read_text()
    assert run.query(compiled) == [("feedback", "programme", "cooking", 1)]
    assert "Warning in test kobo_answers_are_form_choices" in run.dbt.stdout
