"""dbt models as Dagster assets: period models by month, everything else whole."""


import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from orchestration.dbt_invoke import dbt_environment
from orchestration.dbt_project import dbt_project
from orchestration.dbt_runner import DbtRunnerResource
from orchestration.partitions import TIMEZONE, monthly_partitions
from orchestration.resources import WarehouseResource, pipeline_settings
from orchestration.warehouse import web_months_behind

# Models rebuilt per local month (delete+insert on the period): dbt tag `period`. Other
# incremental models (staging tables maintained by load) belong to the whole-history step.
PERIOD_MODELS = "tag:period"

# Marts are rebuilt by the monthly refresh (2nd, 06:00 local): stale if not rebuilt by noon.
MARTS_FRESHNESS = dg.FreshnessPolicy.cron(
    deadline_cron="0 12 2 * *", lower_bound_delta=timedelta(hours=6), timezone=TIMEZONE
)


class SayProDbtTranslator(DagsterDbtTranslator):
    """Maps dbt sources onto the ingestion and quality assets, and folders onto stage groups."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props["source_name"] == "quality":
                return dg.AssetKey(["quality", dbt_resource_props["name"]])
            return dg.AssetKey(["raw", dbt_resource_props["identifier"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        schema = dbt_resource_props.get("schema")
        return schema if schema in {"staging", "intermediate", "marts"} else "marts"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:analytics-engineering"]

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str,
                       project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if manifest["nodes"].get(unique_id, {}).get("meta", {}).get("reads_all_raw_sources"):
            # The model reads every raw table it finds in the project graph at run time
            # (dim_source), reads dbt cannot record when it parses the model.
            spec = spec.merge_attributes(deps=[
                self.get_asset_key(source) for source in manifest["sources"].values()
                if source["schema"] == "raw" and not source["identifier"].startswith("_")])
        if spec.group_name == "marts":
            spec = dg.apply_freshness_policy(spec, MARTS_FRESHNESS)
        return spec


translator = SayProDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def _run_dbt(context: dg.AssetExecutionContext, dbt: DbtRunnerResource,
             warehouse: WarehouseResource, period: dict[str, str] | None = None) -> Iterator[Any]:
    settings = pipeline_settings(warehouse)
    os.environ.update(dbt_environment(settings, {
        "as_of": datetime.now(UTC).isoformat(timespec="seconds"),
        "period_start": "", "period_end": "", "extra_months": "", **(period or {})}))
    # The graph is split into several dbt steps (period models sit in the middle of it): a test
    # with several parents runs only once all of them are built or selected.
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")
    # Unit tests check the SQL against fixed inputs: CI runs them (`make test`), production
    # runs would only repeat them, so scheduled builds leave them out (dbt Labs' advice).
    yield from dbt.build(context, ["build", "--exclude-resource-type", "unit_test"],
                         settings.dbt_target_dir, settings)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=PERIOD_MODELS,
    partitions_def=monthly_partitions,
    dagster_dbt_translator=translator,
    name="dbt_period_models",
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def dbt_period_models(context: dg.AssetExecutionContext, dbt: DbtRunnerResource,
                      warehouse: WarehouseResource):
    """Incremental models rebuilt for the selected local months (delete+insert on the period),
    together with any other month whose web visits changed since it was built (late data, or
    Matomo configured after the history began: it back-fills in the same run)."""
    window = context.partition_time_window
    start, end = window.start.date(), window.end.date()
    behind = [m for m in web_months_behind(pipeline_settings(warehouse).warehouse)
              if not start <= m < end]
    if behind:
        context.log.info(f"Also rebuilding {len(behind)} month(s) whose web visits changed "
                         f"since they were built: {', '.join(m.isoformat()[:7] for m in behind)}")
    yield from _run_dbt(context, dbt, warehouse, {
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "extra_months": ",".join(m.isoformat() for m in behind),
    })


@dbt_assets(
    manifest=dbt_project.manifest_path,
    exclude=PERIOD_MODELS,
    dagster_dbt_translator=translator,
    name="dbt_models",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtRunnerResource,
               warehouse: WarehouseResource):
    """Seeds, staging views, intermediate models and whole-history marts."""
    yield from _run_dbt(context, dbt, warehouse)
