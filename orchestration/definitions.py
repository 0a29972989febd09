"""Entry point of the Dagster code location: everything under `orchestration/defs/`."""

from pathlib import Path

import dagster as dg

from ingestion.settings import Settings, SettingsError

try:
    Settings.from_env()  # reads `.env`; a bad setting stops here, before any module reads it
except SettingsError as error:
    # One line naming the variable and the fix, as the CLI prints it, not a traceback from
    # deep in the loading of the definitions.
    raise SystemExit(f"saypro: {error}") from None

from orchestration import defs as defs_package

# The root given, not searched for (a pyproject.toml above this file): a non-editable install has
# none, and should fail on the missing dbt project with its own message (orchestration.dbt_project).
defs = dg.load_defs(defs_package, project_root=Path(__file__).resolve().parents[1])
