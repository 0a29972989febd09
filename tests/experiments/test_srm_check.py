"""The blocking Dagster asset check on sample-ratio mismatch (orchestration/defs/experiments.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.experiments import (
    RESULTS_KEY,
    sample_ratio_mismatches,
    sample_ratio_result,
)
from tests.conftest import SampleBuild


def test_check_is_blocking_on_the_results_mart() -> None:
    from orchestration.definitions import defs

    key = dg.AssetCheckKey(RESULTS_KEY, "experiment_sample_ratio")
    assert defs.resolve_asset_graph().get_check_spec(key).blocking


def test_no_results_yet_passes(tmp_path: Path) -> None:
    assert sample_ratio_mismatches(tmp_path / "missing.duckdb") == []
    assert sample_ratio_result([]).passed


@pytest.mark.slow
def test_mismatch_blocks_while_the_experiment_runs(experiment_build: SampleBuild,
                                                   tmp_path: Path) -> None:
    """The sample's broken-split experiment is registered as stopped: the check passes and
    names it. Marked running again, the check fails with severity ERROR, naming it."""
    stopped = sample_ratio_mismatches(experiment_build.warehouse)
    assert [m.experiment_id for m in stopped] == ["course_reminder_sms"]
    assert stopped[0].status == "stopped" and stopped[0].srm_p_value < 0.001
    result = sample_ratio_result(stopped)
    assert result.passed and "course_reminder_sms" in result.description

    running = tmp_path / "warehouse.duckdb"
    shutil.copy(experiment_build.warehouse, running)
    with duckdb.connect(str(running)) as con:
        con.execute("update raw.experiments set status = 'running' "
                    "where experiment_id = 'course_reminder_sms'")
    result = sample_ratio_result(sample_ratio_mismatches(running))
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert "course_reminder_sms (running): units email" in result.description
