"""The fault matrix end to end: `saypro run` against the emulators while every source sends 429
bursts, 5xx, truncated and malformed bodies, repeated records and a drifted record builds marts
identical to a clean run's (`tests/ingestion/test_fault_matrix.py` has each fault alone, on the
raw tables).

The six faults in a row exhaust each source's HTTP retries on its first call, so each pull step
also fails once and is retried by Dagster (30 s later): the faulty run spends most of its time
waiting, and the clean run (on emulators of its own) runs meanwhile."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest

from sandbox.server import SandboxHandle, start_sandbox
from tests.conftest import REPO, SAYPRO, clean_env

FAULTS = [("rate_limit_burst", 2), ("server_error", 2), ("truncated_json", 1),
          ("malformed_json", 1), ("repeat_page", 2), ("schema_drift", 1)]
RUN_COLUMNS = {("dim_source", "last_pull_at"), ("dim_source", "last_loaded_at")}
"""Mart columns that say when the run happened, not what it found."""


def _same_digits(row: tuple) -> tuple:
    """Floats to 9 significant digits: parallel sums (the experiment statistics) may differ
    between two builds of the same rows in the last bits."""
    return tuple(float(f"{v:.9g}") if isinstance(v, float) else v for v in row)


def _start(data_dir: Path, sandbox: SandboxHandle) -> subprocess.Popen[str]:
    env = clean_env(data_dir) | sandbox.env() | {"SAYPRO_PII_SALT": "test-salt",
                                                  "SAYPRO_START_DATE": "2025-01-01"}
    return subprocess.Popen([str(SAYPRO), "run", "--from", "2025-01", "--to", "2025-01"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(proc: subprocess.Popen[str]) -> None:
    stdout, stderr = proc.communicate(timeout=1800)
    assert proc.returncode == 0, stdout[-2000:] + stderr[-5000:]


def _marts(data_dir: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        out = {}
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() "
                                    "WHERE schema_name = 'marts' ORDER BY 1").fetchall():
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' "
                "AND table_name = ? ORDER BY column_index", [table]).fetchall()
                if (table, c) not in RUN_COLUMNS]
            out[table] = [_same_digits(row) for row in con.execute(
                f"SELECT {', '.join(columns)} FROM marts.{table} ORDER BY ALL").fetchall()]
    return out


@pytest.mark.slow
def test_marts_after_faults_equal_a_clean_run(sandbox_data: Path, clean_sandbox: SandboxHandle,
                                              tmp_path: Path) -> None:
    for source in clean_sandbox.apps:
        for fault, count in FAULTS:
            clean_sandbox.faults(source).set(fault, count)
    faulty_run = _start(tmp_path / "faulty", clean_sandbox)
    try:
        with start_sandbox(sandbox_data) as fault_free:
            _finish(_start(tmp_path / "clean", fault_free))
    except BaseException:
        faulty_run.kill()
        faulty_run.wait()
        raise
    _finish(faulty_run)
    for source in clean_sandbox.apps:
        assert not any(clean_sandbox.faults(source).counts.values()), source
    clean, faulty = _marts(tmp_path / "clean"), _marts(tmp_path / "faulty")
    assert len(clean) >= 15 and sum(map(len, clean.values())) > 1000
    assert faulty.keys() == clean.keys()
    for table in clean:
        assert faulty[table] == clean[table], table
    with duckdb.connect(str(tmp_path / "faulty" / "warehouse.duckdb"), read_only=True) as con:
        rejected = con.execute("SELECT count(*) FROM raw._landing_files "
                               "WHERE status = 'rejected'").fetchone()[0]
    assert rejected >= 2 * len(clean_sandbox.apps)  # each truncated and malformed body
