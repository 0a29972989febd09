"""Fixtures of the KPI / segment / RCA tests.

`kpi_warehouse` builds a small warehouse once per session: sample data from the generator
(`sandbox.generator.generate`) → drop-folder landing → raw tables → `dbt build`. It is skipped
(not failed) while the generator or the core marts are not in the repository yet.
`SAYPRO_KPI_TEST_WAREHOUSE=<file>` runs the checks on an already built warehouse instead.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
# 0.5 (~3000 tickets, ~20 s to build): enough for segment-level stories such as the new-user
# image-upload issue (lift only over segments with >= 20 tickets in a month).
SCALE = 0.5
SOURCES = ("zendesk", "matomo", "moodle", "kobo")


def _generate(out: Path) -> None:
    generator = pytest.importorskip("sandbox.generator",
                                    reason="sample-data generator not built yet")
    generate = generator.generate
    params = inspect.signature(generate).parameters
    kwargs = {"scale": SCALE} if "scale" in params else {}
    generate(out, **kwargs)


def _dbt_env(data_dir: Path, warehouse: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAYPRO_")}
    env.update({
        "SAYPRO_DATA_DIR": str(data_dir),
        "SAYPRO_WAREHOUSE": str(warehouse),
        "SAYPRO_TIMEZONE": "Africa/Johannesburg",
        "SAYPRO_PII_SALT": "test-salt",
    })
    return env


@pytest.fixture(scope="session")
def kpi_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    existing = os.environ.get("SAYPRO_KPI_TEST_WAREHOUSE")
    if existing:  # debugging: run the checks on an already built warehouse
        return Path(existing)
    if not any((DBT_PROJECT / "models" / "marts" / "core").glob("fct_tickets.sql")):
        pytest.skip("core marts not built yet")
    from ingestion.drop_folder import load_drop_folder
    from ingestion.raw import rebuild_raw

    root = tmp_path_factory.mktemp("kpi")
    drop, data_dir = root / "drop", root / "data"
    warehouse = data_dir / "warehouse.duckdb"
    _generate(drop)
    for source in SOURCES:
        if (drop / source).exists():
            result = load_drop_folder(drop / source, data_dir, source)
            assert not result.errors, result.errors
    rebuild_raw(warehouse, data_dir)
    proc = subprocess.run(
        [str(DBT), "build", "--profiles-dir", ".", "--target-path", str(root / "target"),
         "--log-path", str(root / "logs")],
        cwd=DBT_PROJECT, env=_dbt_env(data_dir, warehouse), capture_output=True, text=True,
        timeout=1800)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return warehouse
