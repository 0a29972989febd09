"""Entry point of the Dagster code location: everything under `orchestration/defs/`."""

from pathlib import Path

import dagster as dg

from orchestration import defs as defs_package

# The root given, not searched for (a pyproject.toml above this file): a non-editable install has
# none, and should fail on the missing dbt project with its own message (orchestration.dbt_project).
defs = dg.load_defs(defs_package, project_root=Path(__file__).resolve().parents[1])
