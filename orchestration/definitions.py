"""Entry point of the Dagster code location: everything under `orchestration/defs/`."""

import dagster as dg

from ingestion.settings import Settings, SettingsError

try:
    _settings = Settings.from_env()  # reads `.env`; a bad setting stops here, before use
    if _settings.engine == "spark":
        # Java, PySpark and dbt-spark, the master and the lake: before any run starts
        from orchestration.spark_build import check_start

        check_start(_settings)
except (SettingsError, RuntimeError) as error:
    # One line naming the variable and the fix, as the CLI prints it, not a traceback from
    # deep in the loading of the definitions. (SparkSetupError and LakeError are RuntimeErrors.)
    raise SystemExit(f"saypro: {error}") from None

# Before Dagster looks for the project's pyproject.toml: a non-editable install has neither it
# nor the dbt project, and importing orchestration.dbt_project fails on the latter with its
# own message (install editable from the checkout).
from orchestration.dbt_project import DBT_PROJECT_DIR

# `[tool.dg.project]` of the checkout's pyproject.toml names the defs module.
defs = dg.load_from_defs_folder(path_within_project=DBT_PROJECT_DIR.parent)
