"""The code location loads its defs folder with Dagster's current loader."""

import subprocess
import sys

import dagster as dg

from orchestration.asset_keys import QUARANTINE_KEY
from orchestration.defs.ingestion import validation_follows_in_process
from tests.conftest import REPO, clean_env

CHECK = """
import warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    from orchestration.definitions import defs
ours = [f"{w.filename}:{w.lineno}: {w.message}" for w in caught
        if issubclass(w.category, DeprecationWarning) and "/orchestration/" in w.filename]
print("\\n".join(ours) or "none")
print(sorted(job.name for job in defs.jobs))
"""


def test_definitions_load_without_deprecated_loaders(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-c", CHECK], cwd=REPO, capture_output=True,
                          text=True, timeout=300,
                          env=clean_env(tmp_path / "data") | {"PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == [
        "none", "['daily_pull', 'monthly_refresh', 'quarterly_review']"]


def test_ephemeral_models_are_no_assets() -> None:
    """marts/kpi/kpi_observations is part of kpi_values (ephemeral): no table, no asset, and
    the exports do not wait for it."""
    import dagster as dg

    from orchestration.defs.reports import mart_keys

    keys = mart_keys()
    assert dg.AssetKey(["marts", "kpi_values"]) in keys
    assert dg.AssetKey(["marts", "support_sla_monthly"]) in keys
    assert dg.AssetKey(["marts", "kpi_observations"]) not in keys


def test_gx_warms_up_during_the_pulls_only_when_validation_follows_in_process() -> None:
    """The pull steps start Great Expectations' import when the same run validates next in
    the same process, and only then."""
    seen: dict[str, bool] = {}

    @dg.asset
    def pulled(context: dg.AssetExecutionContext) -> None:
        seen[context.job_def.name] = validation_follows_in_process(context)

    @dg.asset(key=QUARANTINE_KEY, deps=[pulled])
    def validated() -> None:
        pass

    defs = dg.Definitions(assets=[pulled, validated], jobs=[
        dg.define_asset_job("both", executor_def=dg.in_process_executor),
        dg.define_asset_job("pull_only", selection=[pulled], executor_def=dg.in_process_executor),
    ])
    for job in ("both", "pull_only"):  # as the `saypro` CLI runs them
        assert defs.resolve_job_def(job).execute_in_process().success

    assert seen == {"both": True, "pull_only": False}


def test_every_run_executes_its_steps_in_its_own_process() -> None:
    """DuckDB lets one process write the warehouse at a time: the jobs, and the asset
    selections the UI or `dagster asset materialize` launch (Dagster's implicit asset job,
    multiprocess by default: a dbt step failed on the lock held by validation beside it)."""
    from orchestration.definitions import defs

    jobs = [defs.resolve_job_def(name)
            for name in ("daily_pull", "monthly_refresh", "quarterly_review")]
    jobs.append(defs.resolve_implicit_global_asset_job_def())
    assert {job.name: job.executor_def.name for job in jobs} == {
        job.name: dg.in_process_executor.name for job in jobs}
