"""The experiment registry's checks, and the experiment marts with nothing to analyse.

These build a copy of the dbt project (so that the test can write its own
seeds/experiments.csv) or the project itself on an empty warehouse.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import DBT_PROJECT, run_dbt
from tests.experiments.conftest import EXPERIMENT_MARTS

pytestmark = pytest.mark.slow
HEADER = ("experiment_id,name,hypothesis,unit,campaign_name,variants,allocation,start_date,"
          "end_date,primary_metric,guardrail_metrics,mde_relative,owner,status\n")
BAD_ROWS = (
    "a,A,h,visitor,camp,control|b,,2025-01-01,2025-01-31,visit_conversion,completion_30d,0.1,o,"
    "running\n"
    "b,B,h,visitor,Camp,x|B,60|30|10,2025-01-15,2025-02-15,signups,tickets_per_unit_30d|foo,"
    "0.1,o,running\n"
    "c,C,h,household,c2,solo,,2025-03-01,2025-02-01,ad_ctr,,0,o,live\n"
    "d,D,h,person,c3,|b,,2025-03-01,2025-03-02,enrolment_30d,,0.2,o,draft\n"
    # e and f share a campaign at the same time with different contents: valid
    "e,E,h,visitor,c4,red|blue,,2025-04-01,2025-04-30,visit_conversion,,0.1,o,running\n"
    "f,F,h,visitor,c4,green|amber,,2025-04-15,2025-05-15,ad_ctr,,0.1,o,running\n"
)


def _project_copy(root: Path, registry: str) -> Path:
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "seeds" / "experiments.csv").write_text(registry, encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Raw tables of a deployment that has pulled nothing yet (every source empty)."""
    from ingestion.raw import rebuild_raw

    root = tmp_path_factory.mktemp("experiments_empty")
    data_dir = root / "data"
    warehouse = data_dir / "warehouse.duckdb"
    rebuild_raw(warehouse, data_dir)
    return root, data_dir, warehouse


def _rows(warehouse: Path, table: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select count(*) from marts.{table}").fetchone()[0]


def test_bad_rows_stop_the_build_naming_each_row(tmp_path: Path) -> None:
    project = _project_copy(tmp_path, HEADER + BAD_ROWS)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    proc = run_dbt(project, tmp_path, data_dir, data_dir / "warehouse.duckdb", "build",
                   "--select", "experiments", "int_experiments_validated")
    out = proc.stdout
    assert proc.returncode != 0
    assert "seeds/experiments.csv has" in out
    for problem in (
        "experiment b: primary_metric 'signups' is not a known metric (ad_ctr, completion_30d, "
        "enrolment_30d, registration_30d, tickets_per_unit_30d, visit_conversion)",
        "experiment b: guardrail_metrics name unknown metrics: foo",
        "experiment a: dates 2025-01-01 to 2025-01-31 overlap those of experiment b on the "
        "same campaign 'camp' with a campaign content of both",
        "experiment b: allocation '60|30|10' does not give one positive share per variant",
        "experiment c: variants 'solo' do not name a control",
        "experiment d: variants '|b' do not name a control",
        "experiment c: unit 'household' is neither visitor nor person",
        "experiment c: status 'live' is not draft, running, stopped or concluded",
        "experiment c: start_date and end_date are required, start_date first",
        "experiment c: mde_relative must be a positive share",
    ):
        assert problem in out, out[-4000:]
    assert "experiment a: primary_metric" not in out
    assert "experiment a: guardrail_metrics" not in out
    assert "experiment e:" not in out and "experiment f:" not in out


def test_registered_experiments_without_web_data(
        empty_warehouse: tuple[Path, Path, Path]) -> None:
    """Matomo not configured (or nothing pulled yet): the marts exist and are empty."""
    root, data_dir, warehouse = empty_warehouse
    proc = run_dbt(DBT_PROJECT, root, data_dir, warehouse, "build", "--indirect-selection",
                   "buildable", "--select", *EXPERIMENT_MARTS)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert _rows(warehouse, "fct_experiment_exposures") == 0
    assert _rows(warehouse, "experiment_results") == 0


def test_no_registered_experiment(tmp_path: Path,
                                  empty_warehouse: tuple[Path, Path, Path]) -> None:
    """A registry with its header only is valid: the marts exist and are empty."""
    _, data_dir, warehouse = empty_warehouse
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    project = _project_copy(tmp_path, HEADER)
    proc = run_dbt(project, tmp_path, data_dir, copy, "build", "--indirect-selection",
                   "buildable", "--select", *EXPERIMENT_MARTS)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert _rows(copy, "experiment_results") == 0
