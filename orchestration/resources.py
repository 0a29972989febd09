"""Dagster resources, configured from the environment variables of DESIGN.md section 3."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from ingestion.settings import SOURCE_VARIABLES, Settings, load_env_file


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
        }
        return {k: v for k, v in values.items() if v}

    @property
    def warehouse_path(self) -> Path:
        return Settings.from_env(self.environ()).warehouse


class SourceResource(dg.ConfigurableResource):
    """Credentials of one vendor API; empty values mean the source is not configured."""

    name: str
    base_url: str = ""
    user: str = ""
    token: str = ""
    site_id: str = ""
    registration_asset_uid: str = ""
    feedback_asset_uid: str = ""

    def environ(self) -> dict[str, str]:
        keys, _ = SOURCE_VARIABLES[self.name]
        by_suffix = {
            "BASE_URL": self.base_url, "EMAIL": self.user, "API_TOKEN": self.token,
            "TOKEN": self.token, "SITE_ID": self.site_id,
            "REGISTRATION_ASSET_UID": self.registration_asset_uid,
            "FEEDBACK_ASSET_UID": self.feedback_asset_uid,
        }
        out = {}
        for key in keys:
            value = by_suffix[key.split("_", 1)[1]]
            if value:
                out[key] = value
        return out


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
        ),
        "zendesk": SourceResource(
            name="zendesk", base_url=env_or_empty("ZENDESK_BASE_URL"),
            user=env_or_empty("ZENDESK_EMAIL"), token=env_or_empty("ZENDESK_API_TOKEN"),
        ),
        "matomo": SourceResource(
            name="matomo", base_url=env_or_empty("MATOMO_BASE_URL"),
            site_id=env_or_empty("MATOMO_SITE_ID"), token=env_or_empty("MATOMO_TOKEN"),
        ),
        "moodle": SourceResource(
            name="moodle", base_url=env_or_empty("MOODLE_BASE_URL"),
            token=env_or_empty("MOODLE_TOKEN"),
        ),
        "kobo": SourceResource(
            name="kobo", base_url=env_or_empty("KOBO_BASE_URL"), token=env_or_empty("KOBO_TOKEN"),
            registration_asset_uid=env_or_empty("KOBO_REGISTRATION_ASSET_UID"),
            feedback_asset_uid=env_or_empty("KOBO_FEEDBACK_ASSET_UID"),
        ),
        "dbt": DbtRunnerResource(project_dir=str(dbt_project.project_dir)),
    }
