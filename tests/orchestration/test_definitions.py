"""The code location loads its defs folder with Dagster's current loader."""

import subprocess
import sys

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
