"""The Dagster jobs on Spark (issue 26): `saypro run` of one month with SAYPRO_ENGINE=spark on
the sample organisation (drop folder, scale 0.05) materialises every asset of the monthly job,
its marts equal those of the same run on DuckDB, and the readers (exports, monthly and
quarterly reports) work from the serving copies. A bad Spark setup stops `saypro run` and the
definitions at start with one line naming the fix."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from sandbox.generator import generate
from tests.spark.test_same_marts import differences

REPO = Path(__file__).resolve().parents[2]
MONTH, QUARTER = "2025-12", "2025-Q4"
# When each source was pulled: the two runs pull at different times
PULL_TIMES = {"dim_source": ["last_pull_at", "last_loaded_at"]}


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SAYPRO_", "DAGSTER_HOME"))}
    return {**env, "SAYPRO_DATA_DIR": str(data), "SAYPRO_PII_SALT": "spark-jobs-test",
            "SAYPRO_START_DATE": "2025-01-01", **extra}


def _saypro(env: dict[str, str], *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from orchestration.spark_build import check_setup

    check_setup()  # PySpark, dbt-spark and Java: `make test-spark` installs them
    root = tmp_path_factory.mktemp("jobs")
    generate(root / "sample", scale=0.05, seed=7)
    data = {}
    for engine in ("duckdb", "spark"):
        data[engine] = root / engine
        done = _saypro(_env(data[engine], SAYPRO_ENGINE=engine,
                            SAYPRO_DROP_DIR=str(root / "sample")),
                       "run", "--from", MONTH, "--to", MONTH)
        assert done.returncode == 0, done.stderr[-3000:]
    return data


def _marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [name for (name,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' "
        "order by 1").fetchall()]


def test_the_spark_run_serves_the_duckdb_runs_marts(runs: dict[str, Path]) -> None:
    with duckdb.connect(str(runs["duckdb"] / "warehouse.duckdb"), read_only=True) as duck, \
            duckdb.connect(str(runs["spark"] / "warehouse.duckdb"), read_only=True) as spark:
        marts = _marts(duck)
        assert len(marts) >= 15, marts
        assert _marts(spark) == marts
        problems = []
        for mart in marts:
            query = f"select * exclude ({', '.join(PULL_TIMES[mart])}) from marts.{mart}" \
                if mart in PULL_TIMES else f"select * from marts.{mart}"
            problems += differences(mart, spark.execute(query).df(), duck.execute(query).df())
            columns = f"select column_name, column_type from (describe marts.{mart})"
            assert spark.execute(columns).fetchall() == duck.execute(columns).fetchall(), mart
    assert not problems, "\n".join(problems)


def test_every_asset_of_the_monthly_job_is_materialised_on_spark(
        runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.definitions import defs

    keys = defs.resolve_job_def("monthly_refresh").asset_layer.asset_graph \
        .materializable_asset_keys
    monkeypatch.setenv("DAGSTER_HOME", str(runs["spark"] / "dagster"))
    with dg.DagsterInstance.get() as instance:
        missing = [key.to_user_string() for key in keys
                   if instance.get_latest_materialization_event(key) is None]
        assert not missing, missing
        # a dbt test of a model the build driver computes: its check result was recorded
        check = dg.AssetCheckKey(dg.AssetKey(["intermediate", "int_survey_comments_scored"]),
                                 "not_null_int_survey_comments_scored_response_id")
        history = instance.event_log_storage.get_asset_check_execution_history(check, limit=1)
        assert history and history[0].status.value == "SUCCEEDED", history
        computed = instance.get_latest_materialization_event(
            dg.AssetKey(["intermediate", "int_experiment_comparisons_tested"]))
    metadata = computed.asset_materialization.metadata  # type: ignore[union-attr]
    assert metadata["unique_id"].value == "model.saypro.int_experiment_comparisons_tested"


def test_readers_work_from_the_spark_marts(runs: dict[str, Path]) -> None:
    data = runs["spark"]
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        marts = _marts(con)
        for mart in marts:
            exported = con.execute(f"select count(*) from '{data}/exports/marts/{mart}.parquet'")
            assert exported.fetchone()[0] == \
                con.execute(f"select count(*) from marts.{mart}").fetchone()[0], mart
    for report in (f"support_monthly_{MONTH}", f"quarterly_review_{QUARTER}"):
        spark_md = (data / "reports" / f"{report}.md").read_text()
        duck_md = (runs["duckdb"] / "reports" / f"{report}.md").read_text()
        assert spark_md.splitlines()[:40] == duck_md.splitlines()[:40], report


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("variable", "value", "names"), [
    ("SAYPRO_SPARK_MASTER", "spark://127.0.0.1:{port}", "SAYPRO_SPARK_MASTER"),
    ("SAYPRO_LAKE_URI", "/proc/saypro-lake", "SAYPRO_LAKE_URI"),
])
def test_a_bad_spark_setup_stops_the_run_and_the_definitions_at_start(
        tmp_path: Path, variable: str, value: str, names: str) -> None:
    env = _env(tmp_path / "data", SAYPRO_ENGINE="spark",
               **{variable: value.format(port=_closed_port())})
    run = _saypro(env, "run", "--from", MONTH, "--to", MONTH, timeout=300)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("saypro run: ") and names in lines[0], lines
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()
    load = subprocess.run([sys.executable, "-c", "import orchestration.definitions"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert load.returncode == 1
    assert load.stderr.strip().splitlines()[-1].startswith("saypro: " + names), load.stderr
