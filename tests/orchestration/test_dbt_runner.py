"""dbt in the Dagster process (`orchestration/dbt_runner.py`): what each step writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from orchestration.dbt_runner import invoke_dbt
from tests.conftest import AS_OF, DBT_PROJECT, SampleBuild

MODEL = "stg_zendesk__users"


@pytest.fixture
def step_env(sample_warehouse: SampleBuild, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample warehouse, its environment set as `_run_dbt` sets it; the target
    folder to use."""
    build = sample_warehouse.with_warehouse(tmp_path / "build")
    for name in [k for k in os.environ if k.startswith(("SAYPRO_", "DBT_"))]:
        monkeypatch.delenv(name)
    for name, value in {**build.env(), "SAYPRO_DBT_AS_OF": AS_OF}.items():
        monkeypatch.setenv(name, value)
    return tmp_path / "target"


def _build_one_model(target: Path) -> list[dict]:
    events: list[dict] = []
    result = invoke_dbt(DBT_PROJECT, target,
                        ["build", "--exclude-resource-type", "unit_test", "--select", MODEL],
                        events.append)
    assert result.success, [e["info"]["msg"] for e in events][-10:]
    return events


def test_a_step_writes_its_run_results_and_info_lines_not_the_manifest(step_env: Path) -> None:
    _build_one_model(step_env)  # the first step also parses, writing manifest.json
    manifest = step_env / "manifest.json"
    parsed_at = manifest.stat().st_mtime_ns
    (step_env / "run_results.json").unlink()
    (step_env / "dbt.log").unlink()

    _build_one_model(step_env)

    assert manifest.stat().st_mtime_ns == parsed_at, "manifest.json written again"
    results = json.loads((step_env / "run_results.json").read_text())
    by_node = {r["unique_id"]: r["status"] for r in results["results"]}
    assert by_node[f"model.saypro.{MODEL}"] == "success"
    assert any(node.startswith("test.saypro.") for node in by_node), "its data tests ran"
    log = (step_env / "dbt.log").read_text()
    assert f"OK created sql table model staging.{MODEL}" in log
    assert "[debug]" not in log and "create table" not in log.lower()


def test_debug_lines_come_back_when_asked(step_env: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    _build_one_model(step_env)
    log = (step_env / "dbt.log").read_text()
    assert "[debug]" in log
    assert "create table" in log.lower(), "the SQL of the model's queries"
