"""Dagster resources, configured from the environment variables of DESIGN.md section 3."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from ingestion.settings import Settings, load_env_file
from ingestion.sources import SOURCES


def env_or_empty(name: str) -> dg.EnvVar | str:
    """An EnvVar when the variable is set, else "" so an unconfigured source is skipped."""
    return dg.EnvVar(name) if os.getenv(name) else ""


class WarehouseResource(dg.ConfigurableResource):
    """Where the pipeline keeps its files and the DuckDB warehouse. An empty field is unset:
    `Settings` gives it its default (ingestion/settings.py, the one place of defaults)."""

    data_dir: str = ""
    warehouse: str = ""
    timezone: str = ""
    start_date: str = ""
    pii_salt: str = ""
    drop_dir: str = ""
    lake_uri: str = ""
    duckdb_memory_limit: str = ""
    duckdb_threads: str = ""
    engine: str = ""

    def environ(self) -> dict[str, str]:
        values = {
            "SAYPRO_DATA_DIR": self.data_dir,
            "SAYPRO_WAREHOUSE": self.warehouse,
            "SAYPRO_TIMEZONE": self.timezone,
            "SAYPRO_START_DATE": self.start_date,
            "SAYPRO_PII_SALT": self.pii_salt,
            "SAYPRO_DROP_DIR": self.drop_dir,
            "SAYPRO_LAKE_URI": self.lake_uri,
            "SAYPRO_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "SAYPRO_DUCKDB_THREADS": self.duckdb_threads,
            "SAYPRO_ENGINE": self.engine,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def warehouse_path(self) -> Path:
        return Settings.from_env(self.environ()).warehouse


class SourceResource(dg.ConfigurableResource):
    """Settings of one vendor API: the values of its declaration's variables (`EnvVar`s, so the
    UI shows their names, never a secret); empty values mean the source is not configured."""

    name: str
    values: dict[str, str] = Field(default_factory=dict)

    def environ(self) -> dict[str, str]:
        return {k: v for k, v in self.values.items() if v}


def pipeline_settings(warehouse: WarehouseResource, *sources: SourceResource) -> Settings:
    """The plain-Python settings object the packages use, built from the resources."""
    environ = warehouse.environ()
    for source in sources:
        environ.update(source.environ())
    return Settings.from_env(environ)


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources, each field bound to its environment variable when set (`.env` read)."""
    from orchestration.dbt_project import dbt_project
    from orchestration.dbt_runner import DbtRunnerResource

    load_env_file()
    return {
        "warehouse": WarehouseResource(
            data_dir=env_or_empty("SAYPRO_DATA_DIR"),
            warehouse=env_or_empty("SAYPRO_WAREHOUSE"),
            timezone=env_or_empty("SAYPRO_TIMEZONE"),
            start_date=env_or_empty("SAYPRO_START_DATE"),
            pii_salt=env_or_empty("SAYPRO_PII_SALT"),
            drop_dir=env_or_empty("SAYPRO_DROP_DIR"),
            lake_uri=env_or_empty("SAYPRO_LAKE_URI"),
            duckdb_memory_limit=env_or_empty("SAYPRO_DUCKDB_MEMORY_LIMIT"),
            duckdb_threads=env_or_empty("SAYPRO_DUCKDB_THREADS"),
            engine=env_or_empty("SAYPRO_ENGINE"),
        ),
        **{name: SourceResource(name=name, values={v: env_or_empty(v)
                                                   for v in declaration.variables})
           for name, declaration in SOURCES.items()},
        "dbt": DbtRunnerResource(project_dir=str(dbt_project.project_dir)),
    }
