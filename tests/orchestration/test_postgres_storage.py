"""deploy/dagster.postgres.yaml against a real PostgreSQL server on loopback: a pull asset of the
project runs on an instance with that storage, and its run and events are rows in PostgreSQL.

`make test` and .ci/run start the server (deploy/local-postgres.sh) and export DAGSTER_PG_*."""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

from orchestration.defs.ingestion import SOURCE_ASSETS
from orchestration.resources import SourceResource, WarehouseResource
from orchestration.runner import REPO_ROOT

VARIABLES = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD",
             "DAGSTER_PG_DB")


def _connect(database: str) -> psycopg2.extensions.connection:
    return psycopg2.connect(host=os.environ["DAGSTER_PG_HOST"],
                            port=int(os.environ["DAGSTER_PG_PORT"]),
                            user=os.environ["DAGSTER_PG_USER"],
                            password=os.environ["DAGSTER_PG_PASSWORD"], dbname=database)


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new database on the test server, named in DAGSTER_PG_DB for the test, then dropped."""
    missing = [v for v in VARIABLES if not os.environ.get(v)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: run the tests with `make test`, which "
                    "starts PostgreSQL on loopback (deploy/local-postgres.sh) and exports them")
    name = f"saypro_test_{uuid.uuid4().hex[:12]}"
    admin = _connect(os.environ["DAGSTER_PG_DB"])
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    monkeypatch.setenv("DAGSTER_PG_DB", name)
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_runs_and_events_land_in_postgres(tmp_path: Path, database: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    data_dir = tmp_path / "data"
    resources = {"warehouse": WarehouseResource(data_dir=str(data_dir)),
                 **{s: SourceResource(name=s) for s in ("zendesk", "matomo", "moodle", "kobo")}}
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        result = dg.materialize([SOURCE_ASSETS["kobo"]], instance=instance, resources=resources)
        assert result.success
        run_id = result.run_id

    with _connect(database) as con, con.cursor() as cur:
        cur.execute("SELECT status FROM runs WHERE run_id = %s", [run_id])
        assert cur.fetchall() == [("SUCCESS",)]
        cur.execute("SELECT asset_key FROM event_logs WHERE run_id = %s AND "
                    "dagster_event_type = 'ASSET_MATERIALIZATION' ORDER BY asset_key",
                    [run_id])
        assert [r[0] for r in cur.fetchall()] == [
            '["raw", "kobo__feedback"]', '["raw", "kobo__forms"]',
            '["raw", "kobo__registration"]']
    # nothing went to SQLite beside the config (run, event and schedule storage are remote)
    assert not list(home.rglob("*.db"))
    # the pull ran for real: its raw tables are in the warehouse and the lake
    assert (data_dir / "warehouse.duckdb").exists()
    assert (data_dir / "lake" / "raw" / "_source_status" / "data.parquet").exists()
