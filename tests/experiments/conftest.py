"""Fixtures of the experiment tests.

`load_statistics()` is the statistics module (transforms.experiment_stats) that the dbt Python
model and the Spark build call. `experiment_build` builds the
experiment marts on sample data once per seed: generator (scale 0.5) → drop-folder landing →
raw tables → `dbt build` of the experiment marts and everything upstream, with a pinned
cut-off after the sample's year, as tests/dbt/conftest.py does.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
# 0.5: about 900 units per arm in the sample's larger experiments, enough for the planned
# minimum detectable effects (at 0.2 the lift experiment is sometimes too small to conclude)
SCALE = 0.5
SEEDS = (7, 23)
SOURCES = ("zendesk", "matomo", "moodle", "kobo")
AS_OF = "2026-01-15T00:00:00+00:00"
EXPERIMENT_MARTS = ("+experiment_results", "+fct_experiment_exposures")
# Marts the tests recompute the results from (the experiment models read intermediate models)
REFERENCE_MARTS = ("fct_enrolments",)


def load_statistics() -> ModuleType:
    return importlib.import_module("transforms.experiment_stats")


def dbt_env(data_dir: Path, warehouse: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAYPRO_")}
    env.update({"SAYPRO_DATA_DIR": str(data_dir), "SAYPRO_WAREHOUSE": str(warehouse),
                "SAYPRO_TIMEZONE": "Africa/Johannesburg", "SAYPRO_PII_SALT": "experiment-salt",
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    return env


def run_dbt(project: Path, root: Path, data_dir: Path, warehouse: Path,
            *args: str) -> subprocess.CompletedProcess:
    """dbt in `project` with its artefacts under `root` (never the repo's target/)."""
    cmd = [str(DBT), *args, "--profiles-dir", ".", "--vars", json.dumps({"as_of": AS_OF}),
           "--target-path", str(root / "target"), "--log-path", str(root / "logs")]
    return subprocess.run(cmd, cwd=project, env=dbt_env(data_dir, warehouse),
                          capture_output=True, text=True, timeout=1800)


@dataclass
class ExperimentBuild:
    seed: int
    drop: Path
    warehouse: Path

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).df()

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.drop / "manifest.json").read_text())

    def stories(self) -> list[dict[str, Any]]:
        return json.loads((self.drop / "stories.json").read_text())


@pytest.fixture(scope="session", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def experiment_build(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> ExperimentBuild:
    from ingestion.drop_folder import load_drop_folder
    from ingestion.raw import rebuild_raw
    from sandbox.generator import generate

    root = tmp_path_factory.mktemp(f"experiments_seed{request.param}")
    drop, data_dir = root / "drop", root / "data"
    warehouse = data_dir / "warehouse.duckdb"
    generate(drop, scale=SCALE, seed=request.param)
    for source in SOURCES:
        result = load_drop_folder(drop / source, data_dir, source)
        assert not result.errors, result.errors
    rebuild_raw(warehouse, data_dir)
    # the dbt unit tests run in the full builds of tests/dbt and tests/kpi
    proc = run_dbt(DBT_PROJECT, root, data_dir, warehouse, "build", "--indirect-selection",
                   "buildable", "--exclude-resource-type", "unit_test",
                   "--select", *EXPERIMENT_MARTS, *REFERENCE_MARTS)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return ExperimentBuild(request.param, drop, warehouse)
