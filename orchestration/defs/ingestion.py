"""Ingestion assets: one multi-asset per source, landing pages and merging them into `raw`."""


import dagster as dg
from dagster._core.definitions.executor_definition import execute_in_process_executor

from ingestion.contract import SourceDeclaration
from ingestion.http import RetriesExhaustedError, SourceError
from ingestion.pull import pull_source
from ingestion.raw import table_name
from ingestion.sources import SOURCES
from orchestration.asset_keys import QUARANTINE_KEY, raw_asset_key
from orchestration.resources import pipeline_settings
from orchestration.warehouse import table_row_counts

# Executors that run every step in the run's process: the jobs' own, and the one
# `execute_in_process` (the `saypro` CLI) puts in its place.
IN_PROCESS_EXECUTORS = {dg.in_process_executor.name, execute_in_process_executor.name}


def validation_follows_in_process(context: dg.AssetExecutionContext) -> bool:
    """Whether this run validates the pulled batches next, in this process (the jobs run their
    steps in process; an ad-hoc selection in the UI may not)."""
    return (context.job_def.executor_def.name in IN_PROCESS_EXECUTORS
            and QUARANTINE_KEY in context.job_def.asset_layer.selected_asset_keys)


def build_source_asset(declaration: SourceDeclaration) -> dg.AssetsDefinition:
    """One multi-asset per declared source: its raw tables, pulled and merged together."""
    source, entities = declaration.name, declaration.entity_names
    specs = [
        dg.AssetSpec(
            raw_asset_key(source, entity),
            description=f"`{table_name(source, entity)}`: latest landed version of each "
            f"{source} {entity} record. {declaration.description}",
            group_name="ingestion",
            kinds={"python", "duckdb", source},
            owners=["team:data-engineering"],
            skippable=True,
        )
        for entity in entities
    ]

    @dg.multi_asset(
        name=f"pull_{source}", specs=specs, can_subset=False,
        required_resource_keys={"warehouse", source},
        retry_policy=dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL),
    )
    def pull(context: dg.AssetExecutionContext):
        settings = pipeline_settings(context.resources.warehouse,
                                     getattr(context.resources, source))
        if validation_follows_in_process(context):
            # Great Expectations takes seconds to import: meanwhile, not after the pulls.
            from quality.gx_suite import warm_up

            warm_up()
        try:
            result = pull_source(source, settings, context.log)
        except SourceError as exc:
            if isinstance(exc, RetriesExhaustedError):
                raise  # the retry policy runs the pull again later
            # permanent (401/403/404, a vendor error body): fail at once (DESIGN.md section 5)
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        shared = result.metadata()
        rows_by_table = table_row_counts(settings.warehouse,
                                         [table_name(source, entity) for entity in entities])
        for entity in entities:
            yield dg.MaterializeResult(
                asset_key=raw_asset_key(source, entity),
                metadata={**{k: v for k, v in shared.items() if k.startswith(f"{entity}.")
                             or "." not in k},
                          "dagster/row_count": rows_by_table[table_name(source, entity)]},
            )

    pull.__doc__ = declaration.description
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

SOURCE_ASSETS: dict[str, dg.AssetsDefinition] = {
    name: build_source_asset(declaration) for name, declaration in SOURCES.items()}


@dg.definitions
def ingestion_assets() -> dg.Definitions:
    """The pull asset of every declared source, and the source status they write (a module
    with a definitions function contributes only what the function returns)."""
    return dg.Definitions(assets=[*SOURCE_ASSETS.values(), source_status])
