"""dbt in process (`orchestration/dbt_invoke.py`, the Dagster steps' and `saypro dbt`'s): what
each invocation writes and where its parse starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_invoke import PARTIAL_PARSE_FILE, invoke_dbt, parse_environment
from tests.conftest import AS_OF, DBT_PROJECT, SAYPRO, SampleBuild

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


def test_a_model_reading_an_ephemeral_one_builds_again_in_the_same_process(
        step_env: Path) -> None:
    """kpi_values inlines the ephemeral kpi_observations. Each `saypro run` month is a
    Dagster run in one process on the parse kept there: the second month's build failed
    ("__dbt__cte__kpi_observations does not exist") because dbt did not inline it again."""
    compiled = step_env / "compiled" / "saypro" / "models" / "marts" / "kpi" / "kpi_values.sql"
    for build in (1, 2):
        events: list[dict] = []
        result = invoke_dbt(DBT_PROJECT, step_env, ["run", "--select", "kpi_values"],
                            events.append)
        assert result.success, (build, [e["info"]["msg"] for e in events][-10:])
        assert compiled.read_text().count("__dbt__cte__kpi_observations as (") == 1, build


def test_debug_lines_come_back_when_asked(step_env: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    _build_one_model(step_env)
    log = (step_env / "dbt.log").read_text()
    assert "[debug]" in log
    assert "create table" in log.lower(), "the SQL of the model's queries"


def test_a_new_target_folder_starts_from_the_projects_parse(
        step_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first step in a new data dir parses only what differs from the project's own parse
    (`make manifest`), here nothing, although the warehouse is in another folder; the parse
    never opens a warehouse, the build writes to the real one, and the environment is as
    before."""
    assert (DBT_PROJECT / "target" / PARTIAL_PARSE_FILE).is_file(), "run `make manifest`"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a warehouse opened by its file name alone would land here
    warehouse = Path(os.environ["SAYPRO_WAREHOUSE"])
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"drop table staging.{MODEL}")
    before = dict(os.environ)

    _build_one_model(step_env)

    log = (step_env / "dbt.log").read_text()
    assert "Partial parsing enabled, no changes found, skipping parsing" in log
    assert "full parse" not in log.lower()
    assert (step_env / PARTIAL_PARSE_FILE).is_file()
    assert list(elsewhere.iterdir()) == []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = con.execute("select count(*) from duckdb_tables() "
                            "where schema_name = 'staging' and table_name = ?", [MODEL]).fetchone()
    assert built == (1,)
    assert dict(os.environ) == before


@pytest.mark.parametrize(("warehouse", "name"), [
    (None, "warehouse.duckdb"),
    ("/srv/saypro/data/warehouse.duckdb", "warehouse.duckdb"),
    ("relative/dir/saypro.duckdb", "saypro.duckdb"),
])
def test_dbt_parses_with_the_warehouse_file_name_and_no_salt(
        warehouse: str | None, name: str) -> None:
    environ = {"SAYPRO_PII_SALT": "secret", "SAYPRO_ENGINE": "spark", "SAYPRO_TIMEZONE": "UTC"}
    if warehouse:
        environ["SAYPRO_WAREHOUSE"] = warehouse
    assert parse_environment(environ) == {"SAYPRO_WAREHOUSE": name, "SAYPRO_PII_SALT": None}


def test_saypro_dbt_runs_as_the_pipeline_on_the_deployments_warehouse(
        sample_warehouse: SampleBuild, tmp_path: Path) -> None:
    """`saypro dbt -- <command>`: the data dir's target folder, started from the project's
    parse (nothing parsed again, and the project's parse left as it was), the warehouse of
    SAYPRO_WAREHOUSE, dbt's lines on stdout, the run settings from SAYPRO_DBT_*."""
    build = sample_warehouse.with_warehouse(tmp_path / "build")
    data_dir = tmp_path / "data"
    with duckdb.connect(str(build.warehouse)) as con:
        con.execute(f"drop table staging.{MODEL}")
    project_parse = DBT_PROJECT / "target" / PARTIAL_PARSE_FILE
    parsed_at = project_parse.stat().st_mtime_ns
    env = build.env() | {"SAYPRO_DATA_DIR": str(data_dir), "SAYPRO_DBT_AS_OF": AS_OF}

    proc = subprocess.run(
        [str(SAYPRO), "dbt", "--", "build", "--exclude-resource-type", "unit_test",
         "--select", MODEL], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)

    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"OK created sql table model staging.{MODEL}" in proc.stdout
    assert "Completed successfully" in proc.stdout
    log = (data_dir / "dbt_target" / "dbt.log").read_text()
    assert "Partial parsing enabled, no changes found, skipping parsing" in log
    results = json.loads((data_dir / "dbt_target" / "run_results.json").read_text())
    assert {r["unique_id"]: r["status"] for r in results["results"]}[
        f"model.saypro.{MODEL}"] == "success"
    assert project_parse.stat().st_mtime_ns == parsed_at
    with duckdb.connect(str(build.warehouse), read_only=True) as con:
        assert con.execute(f"select count(*) from staging.{MODEL}").fetchone()[0] > 0


def test_saypro_dbt_names_what_is_wrong(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SAYPRO_", "DBT_"))}
    base["SAYPRO_DATA_DIR"] = str(tmp_path / "data")

    def saypro_dbt(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(SAYPRO), "dbt", *args], cwd=tmp_path, env=base | env,
                              capture_output=True, text=True, timeout=300)

    nothing = saypro_dbt()
    assert nothing.returncode == 2
    assert "name a dbt command after `--`" in nothing.stderr
    no_salt = saypro_dbt("--", "build")
    assert no_salt.returncode == 1
    assert "SAYPRO_PII_SALT" in no_salt.stderr
    spark = saypro_dbt("--", "build", SAYPRO_PII_SALT="x", SAYPRO_ENGINE="spark")
    assert spark.returncode == 1
    # without PySpark the settings say so; with it, the command says where Spark builds run
    assert spark.stderr.startswith("saypro dbt: ") and "SAYPRO_ENGINE=spark" in spark.stderr


def test_dbt_in_process_needs_no_dagster() -> None:
    """`saypro dbt` and the parse helpers import dbt, not Dagster (2.6 s of a command's start)."""
    code = ("import sys, orchestration.dbt_invoke, orchestration.cli; print(sorted(m for m in "
            "sys.modules if m.split('.')[0] in ('dagster', 'dagster_dbt')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=DBT_PROJECT.parent).stdout
    assert out.strip() == "[]"
