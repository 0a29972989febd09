"""Shared fixtures: small generated sample data, the vendor emulators, one demo run, and one
sample warehouse built by dbt for the dbt, KPI and experiment tests.

The two session builds are the expensive ones and each is made once per session (per xdist
worker: `make test` sends the tests of each to one worker, see tests/grouping.py):

- `demo_run`: `saypro demo --scale 0.3`, the whole CLI path (emulators, connectors, quality,
  dbt, exports, reports, Dagster instance). The end-to-end, secrets, reports and dashboard
  tests read it.
- `sample_warehouse`: generator (scale 0.5, seed 7) → drop-folder landing → raw tables → one
  `dbt build` of the whole project (unit and data tests included) with a pinned cut-off. The
  core-mart, KPI and experiment tests read it. A test that writes copies the warehouse file
  (or the data dir, `SampleBuild.copy`) first: a copy takes well under a second, a build about
  a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from sandbox.generator import generate
from sandbox.server import SandboxHandle, start_sandbox

pytest_plugins = ["tests.grouping"]

REPO = Path(__file__).resolve().parents[1]
SAYPRO = Path(sys.executable).with_name("saypro")
DBT = Path(sys.executable).with_name("dbt")
DBT_PROJECT = REPO / "dbt_project"
SOURCES = ("zendesk", "matomo", "moodle", "kobo")
# The sample warehouse: 0.5 (~3000 tickets) is enough for the segment-level stories (lift only
# over segments with >= 20 tickets in a month) and for the planned experiments' minimum
# detectable effects (at 0.2 the lift experiment is sometimes too small to conclude).
SAMPLE_SCALE = 0.5
SAMPLE_SEED = 7
SAMPLE_SALT = "sample-test-salt"
TIMEZONE = "Africa/Johannesburg"
AS_OF = "2026-01-15T00:00:00+00:00"
"""The cut-off of the sample builds: after the sample's year, so every period is complete."""

@pytest.fixture(scope="session")
def sandbox_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sample organisation at a small scale (generated once per session)."""
    out = tmp_path_factory.mktemp("sample") / "data"
    generate(out, scale=0.05, seed=11)
    return out


@pytest.fixture(scope="session")
def sandbox(sandbox_data: Path) -> Iterator[SandboxHandle]:
    with start_sandbox(sandbox_data) as handle:
        yield handle


@pytest.fixture
def clean_sandbox(sandbox: SandboxHandle) -> Iterator[SandboxHandle]:
    """The emulators with every fault cleared before and after the test."""
    for source in sandbox.apps:
        sandbox.faults(source).clear()
    yield sandbox
    for source in sandbox.apps:
        sandbox.faults(source).clear()


def clean_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SAYPRO_", "ZENDESK_", "MATOMO_", "MOODLE_", "KOBO_",
                                "DAGSTER_HOME"))}
    env["SAYPRO_DATA_DIR"] = str(data_dir)
    return env


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`saypro demo` on a small organisation: (data dir, stdout). A drop folder set in the
    environment (here one with an empty Zendesk folder) is not read: the demo pulls from the
    emulators, so every mart has rows (tests/test_end_to_end.py)."""
    data_dir = tmp_path_factory.mktemp("demo")
    stray_drop = tmp_path_factory.mktemp("stray_drop")
    (stray_drop / "zendesk").mkdir()
    proc = subprocess.run([str(SAYPRO), "demo", "--scale", "0.3"], cwd=REPO,
                          env=clean_env(data_dir) | {"SAYPRO_DROP_DIR": str(stray_drop)},
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return data_dir, proc.stdout


def sample_env(data_dir: Path, warehouse: Path) -> dict[str, str]:
    """The environment of dbt on a sample warehouse (no other SAYPRO_ setting leaks in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAYPRO_")}
    env.update({
        "SAYPRO_DATA_DIR": str(data_dir),
        "SAYPRO_WAREHOUSE": str(warehouse),
        "SAYPRO_TIMEZONE": TIMEZONE,
        "SAYPRO_PII_SALT": SAMPLE_SALT,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    })
    return env


def run_dbt(project: Path, root: Path, data_dir: Path, warehouse: Path, *args: str,
            vars_: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """dbt in `project` on `warehouse` with the pinned cut-off; the caller checks the outcome.

    The repository's project runs as the pipeline runs it (`saypro dbt`: run settings as
    SAYPRO_DBT_* variables, `data_dir`'s target folder, starting from the project's parse, so
    a new data dir does not parse the whole project again); a copied project through dbt's
    command line, its artefacts under `root` (never the repo's target/)."""
    settings = {"as_of": AS_OF, **(vars_ or {})}
    env = sample_env(data_dir, warehouse)
    if project == DBT_PROJECT:
        env |= {f"SAYPRO_DBT_{name.upper()}": value for name, value in settings.items()}
        cmd = [str(SAYPRO), "dbt", "--", *args]
    else:
        cmd = [str(DBT), *args, "--profiles-dir", ".", "--vars", json.dumps(settings),
               "--target-path", str(root / "target"), "--log-path", str(root / "logs")]
    return subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True,
                          timeout=1800)


@dataclass(frozen=True)
class SampleBuild:
    """Generated sample data (`drop`, vendor JSONL with manifest.json and stories.json) landed
    into `data_dir` and built by dbt into `warehouse`; `root` holds dbt's target and logs."""

    root: Path
    drop: Path
    data_dir: Path
    warehouse: Path
    seed: int

    def env(self) -> dict[str, str]:
        return sample_env(self.data_dir, self.warehouse)

    def dbt(self, *args: str, vars_: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        """dbt on this build's warehouse; it must succeed."""
        proc = run_dbt(DBT_PROJECT, self.root, self.data_dir, self.warehouse, *args,
                       vars_=vars_)
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
        return proc

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).df()

    def jsonl(self, source: str, entity: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for path in sorted((self.drop / source / entity).glob("*.jsonl")):
            with path.open(encoding="utf-8") as fh:
                rows.extend(json.loads(line) for line in fh if line.strip())
        return rows

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.drop / "manifest.json").read_text())

    def stories(self) -> list[dict[str, Any]]:
        return json.loads((self.drop / "stories.json").read_text())

    def copy(self, root: Path) -> SampleBuild:
        """The same build with its own data dir (landing files and warehouse) under `root`,
        for a test that writes; the drop folder is shared (read only)."""
        root.mkdir(parents=True, exist_ok=True)
        data_dir = root / "data"
        shutil.copytree(self.data_dir, data_dir)
        return replace(self, root=root, data_dir=data_dir,
                       warehouse=data_dir / self.warehouse.relative_to(self.data_dir))

    def with_warehouse(self, root: Path) -> SampleBuild:
        """The same build with a copy of the warehouse file alone under `root` (the landing
        files stay shared), for a test that writes to the warehouse only."""
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.warehouse, root / "warehouse.duckdb")
        return replace(self, root=root, warehouse=root / "warehouse.duckdb")


def build_sample(root: Path, *, scale: float, seed: int, select: tuple[str, ...] = ()
                 ) -> SampleBuild:
    """Generate, land and build a sample under `root`: the whole project by default, or the
    models in `select` and everything upstream (their data tests included, unit tests not)."""
    from ingestion.drop_folder import load_drop_folder
    from ingestion.raw import rebuild_raw

    build = SampleBuild(root, root / "drop", root / "data", root / "data" / "warehouse.duckdb",
                        seed)
    generate(build.drop, scale=scale, seed=seed)
    for source in SOURCES:
        result = load_drop_folder(build.drop / source, build.data_dir, source)
        assert not result.errors, result.errors
    rebuild_raw(build.warehouse, build.data_dir)
    if select:
        build.dbt("build", "--indirect-selection", "buildable", "--exclude-resource-type",
                  "unit_test", "--select", *select)
    else:
        build.dbt("build")
    return build


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    """The session's sample warehouse (scale 0.5, seed 7, the whole project built once). Read
    only: copy it (`SampleBuild.copy`, `SampleBuild.with_warehouse`) before writing."""
    return build_sample(tmp_path_factory.mktemp("sample_warehouse"), scale=SAMPLE_SCALE,
                        seed=SAMPLE_SEED)
