"""Fixtures of the core dbt tests (staging, intermediate, core marts).

`core_warehouse` builds a small warehouse once per session: sample data from the generator
(`sandbox.generator.generate`, scale 0.2, seed 7) → drop-folder landing → raw tables → a full
`dbt build` with a pinned cut-off. The generated JSONL stays available for independent
recomputation of KPIs with pandas.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
SCALE = 0.2
SEED = 7
SOURCES = ("zendesk", "matomo", "moodle", "kobo")
TIMEZONE = "Africa/Johannesburg"
SALT = "core-test-salt"
AS_OF = "2026-01-15T00:00:00+00:00"
INCREMENTAL_MODELS = ("fct_web_visits", "agg_web_traffic_monthly", "agg_web_pages_monthly")


@dataclass
class CoreBuild:
    root: Path
    drop: Path
    data_dir: Path
    warehouse: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAYPRO_")}
        env.update({
            "SAYPRO_DATA_DIR": str(self.data_dir),
            "SAYPRO_WAREHOUSE": str(self.warehouse),
            "SAYPRO_TIMEZONE": TIMEZONE,
            "SAYPRO_PII_SALT": SALT,
        })
        return env

    def dbt(self, *args: str, vars_: dict | None = None) -> subprocess.CompletedProcess:
        all_vars = {"as_of": AS_OF, **(vars_ or {})}
        cmd = [str(DBT), *args, "--profiles-dir", ".", "--vars", json.dumps(all_vars),
               "--target-path", str(self.root / "target"), "--log-path", str(self.root / "logs")]
        proc = subprocess.run(cmd, cwd=DBT_PROJECT, env=self.env(), capture_output=True,
                              text=True, timeout=1800)
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
        return proc

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).df()

    def jsonl(self, source: str, entity: str) -> list[dict]:
        rows: list[dict] = []
        for path in sorted((self.drop / source / entity).glob("*.jsonl")):
            with path.open(encoding="utf-8") as fh:
                rows.extend(json.loads(line) for line in fh if line.strip())
        return rows


@pytest.fixture(scope="session")
def core_build(tmp_path_factory: pytest.TempPathFactory) -> CoreBuild:
    generator = pytest.importorskip("sandbox.generator", reason="sample-data generator missing")
    from ingestion.drop_folder import load_drop_folder
    from ingestion.raw import rebuild_raw

    root = tmp_path_factory.mktemp("core_dbt")
    build = CoreBuild(root, root / "drop", root / "data", root / "data" / "warehouse.duckdb")
    generator.generate(build.drop, scale=SCALE, seed=SEED)
    for source in SOURCES:
        result = load_drop_folder(build.drop / source, build.data_dir, source)
        assert not result.errors, result.errors
    rebuild_raw(build.warehouse, build.data_dir)
    build.dbt("build")
    return build


@pytest.fixture(scope="session")
def month_rebuild(core_build: CoreBuild) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """The incremental models after the full build, and after rebuilding 2025-03 alone
    (on a copy of the warehouse, so the other tests keep the from-scratch build)."""
    copy = CoreBuild(core_build.root / "rebuild", core_build.drop, core_build.data_dir,
                     core_build.root / "rebuild" / "warehouse.duckdb")
    copy.root.mkdir()
    shutil.copy(core_build.warehouse, copy.warehouse)
    copy.dbt("run", "--select", *INCREMENTAL_MODELS,
             vars_={"period_start": "2025-03-01", "period_end": "2025-04-01"})
    out = {}
    for model in INCREMENTAL_MODELS:
        schema = "intermediate" if model.startswith("int_") else "marts"
        sql = f"select * from {schema}.{model} order by all"
        out[model] = (core_build.query(sql), copy.query(sql))
    return out
