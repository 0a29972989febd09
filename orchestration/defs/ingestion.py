"""Ingestion assets: one multi-asset per source, landing pages and merging them into `raw`."""


import dagster as dg

from ingestion.pull import pull_source
from ingestion.raw import ENTITIES, table_name
from orchestration.asset_keys import raw_asset_key
from orchestration.resources import SourceResource, WarehouseResource, pipeline_settings
from orchestration.warehouse import table_row_count

SOURCE_DESCRIPTIONS = {
    "zendesk": "Zendesk Support API: incremental cursor export of tickets and users, "
    "time-based ticket events with comments, help-centre articles.",
    "matomo": "Matomo Live.getLastVisitsDetails per local day, re-pulling recent days for "
    "late data.",
    "moodle": "Moodle Web Services: categories, courses, enrolled users, per-student "
    "completion status and grade items.",
    "kobo": "KoboToolbox API v2: registration and feedback submissions, incremental on "
    "_submission_time.",
}


def build_source_asset(source: str) -> dg.AssetsDefinition:
    entities = [e for (s, e) in ENTITIES if s == source]
    specs = [
        dg.AssetSpec(
            raw_asset_key(source, entity),
            description=f"`{table_name(source, entity)}`: latest landed version of each "
            f"{source} {entity} record. {SOURCE_DESCRIPTIONS[source]}",
            group_name="ingestion",
            kinds={"python", "duckdb", source},
            owners=["team:data-engineering"],
            skippable=True,
        )
        for entity in entities
    ]

    @dg.multi_asset(
        name=f"pull_{source}", specs=specs, can_subset=False,
        retry_policy=dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL),
    )
    def pull(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
             zendesk: SourceResource, matomo: SourceResource, moodle: SourceResource,
             kobo: SourceResource):
        resource = {"zendesk": zendesk, "matomo": matomo, "moodle": moodle, "kobo": kobo}[source]
        settings = pipeline_settings(warehouse, resource)
        result = pull_source(source, settings, context.log)
        shared = result.metadata()
        for entity in entities:
            rows = table_row_count(settings.warehouse, table_name(source, entity))
            yield dg.MaterializeResult(
                asset_key=raw_asset_key(source, entity),
                metadata={**{k: v for k, v in shared.items() if k.startswith(f"{entity}.")
                             or "." not in k},
                          "dagster/row_count": rows},
            )

    pull.__doc__ = SOURCE_DESCRIPTIONS[source]
    return pull


source_status = dg.AssetSpec(
    dg.AssetKey(["raw", "_source_status"]),
    description="`raw._source_status`: how each source was last pulled (`api`, `drop`, or "
    "`skipped` when it is not configured), written by every pull asset; `marts.dim_source` "
    "reads it so that KPIs and reports leave out sources that are not configured.",
    group_name="ingestion",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
)

zendesk_assets = build_source_asset("zendesk")
matomo_assets = build_source_asset("matomo")
moodle_assets = build_source_asset("moodle")
kobo_assets = build_source_asset("kobo")
