"""Three months built month by month, as data arrives, equal the same three months built from
scratch in one run: every mart, row for row (floats within 1e-9).

Month by month, each monthly export is dropped before its month's `saypro run` (Zendesk tickets
and events, Matomo visits and Kobo submissions of that month; users, articles, the forms and
Moodle whole from the start), so raw merges, staging tables maintained by load, the period
models and the whole-history marts all run incrementally. From scratch, the same files are in
place before one run that builds the three months at once (as `saypro demo` does).

Three months are enough: the first builds from nothing, the second and third each add a month
to an existing warehouse, which is what every later month does too (the incremental models are
all by month, none by quarter), and the third completes a quarter, so its run also renders the
quarterly review. Each month is a whole `saypro run`, so every month more costs a run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import clean_env

REPO = Path(__file__).resolve().parents[1]
SAYPRO = Path(sys.executable).with_name("saypro")
MONTHS = ["2025-01", "2025-02", "2025-03"]
SALT = "month-by-month-salt"
RUN_TIME_COLUMNS = {"dim_source": ["last_pull_at", "last_loaded_at"]}
"""Columns that record when something ran, not what the data says."""


def _add_month(sample: Path, drop: Path, month: str) -> None:
    """Copy into `drop` the monthly exports of `month` (all of them for the first month's
    companions: files that are not monthly)."""
    for entity in ("tickets", "ticket_events"):
        target = drop / "zendesk" / entity
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample / "zendesk" / entity / f"{month}.jsonl", target)
    target = drop / "matomo" / "visits"
    target.mkdir(parents=True, exist_ok=True)
    for day in sorted((sample / "matomo" / "visits").glob(f"{month}-*.jsonl")):
        shutil.copy(day, target)
    for form in ("registration", "feedback"):
        lines = [line for line in (sample / "kobo" / form / f"{form}.jsonl").read_text()
                 .splitlines() if line.strip()
                 and json.loads(line)["_submission_time"][:7] == month]
        target = drop / "kobo" / form
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{month}.jsonl").write_text("".join(f"{line}\n" for line in lines))
    if month == MONTHS[0]:
        for whole in ("zendesk/users", "zendesk/articles", "kobo/forms", "moodle"):
            shutil.copytree(sample / whole, drop / whole)


def _marts(warehouse: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()]
        out = {}
        for name in names:
            frame = con.execute(f"SELECT * FROM marts.{name}").df()
            frame = frame.drop(columns=RUN_TIME_COLUMNS.get(name, []))
            out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return out


def _build_at_once(sample: Path, scratch: Path) -> subprocess.Popen[str]:
    """Start the from-scratch build: every month's files in place, then one run of them all."""
    for month in MONTHS:
        _add_month(sample, scratch / "drop", month)
    env = clean_env(scratch / "data") | {"SAYPRO_DROP_DIR": str(scratch / "drop"),
                                         "SAYPRO_PII_SALT": SALT}
    # a script file, not `python -c`: PySpark (the spark extra), when installed, takes a
    # `-c` main module for its doctests on import and exits
    script = scratch / "build_at_once.py"
    script.write_text(
        "from orchestration.runner import PipelineRunner, prepare_dagster_home\n"
        "from pathlib import Path\n"
        f"prepare_dagster_home(Path({str(scratch / 'data')!r}))\n"
        f"PipelineRunner().refresh_history({MONTHS[0]!r}, {MONTHS[-1]!r})\n")
    return subprocess.Popen([sys.executable, str(script)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_month_by_month_equals_from_scratch(sandbox_data: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    at_once_run = _build_at_once(sandbox_data, scratch)  # independent: runs meanwhile
    try:
        by_month = tmp_path / "by_month"
        env = clean_env(by_month / "data") | {"SAYPRO_DROP_DIR": str(by_month / "drop"),
                                              "SAYPRO_PII_SALT": SALT}
        for month in MONTHS:
            _add_month(sandbox_data, by_month / "drop", month)
            proc = subprocess.run([str(SAYPRO), "run", "--from", month, "--to", month],
                                  cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
            assert proc.returncode == 0, month + proc.stdout[-3000:] + proc.stderr[-5000:]
    except BaseException:
        at_once_run.kill()
        at_once_run.wait()
        raise
    stdout, stderr = at_once_run.communicate(timeout=900)
    assert at_once_run.returncode == 0, stdout[-3000:] + stderr[-5000:]

    incremental = _marts(by_month / "data" / "warehouse.duckdb")
    at_once = _marts(scratch / "data" / "warehouse.duckdb")
    assert set(incremental) == set(at_once)
    assert len(incremental["fct_web_visits"]) > 0 and len(incremental["fct_tickets"]) > 0
    for name in sorted(at_once):
        pd.testing.assert_frame_equal(incremental[name], at_once[name], check_exact=False,
                                      rtol=1e-9, atol=1e-9, obj=f"marts.{name}")
