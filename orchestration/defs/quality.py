"""Quality stage: Great Expectations suites and row rules on every newly landed raw batch."""


from datetime import UTC, datetime

import dagster as dg

from ingestion.sources import ENTITIES
from orchestration.asset_keys import QUARANTINE_KEY, raw_asset_key
from orchestration.resources import WarehouseResource, pipeline_settings
from orchestration.warehouse import table_row_counts


def check_name(source: str, entity: str) -> str:
    return f"{source}__{entity}_valid"


@dg.asset(
    key=QUARANTINE_KEY,
    group_name="quality",
    kinds={"python", "duckdb", "great_expectations"},
    owners=["team:data-engineering"],
    deps=[raw_asset_key(s, e) for s, e in ENTITIES],
    check_specs=[
        dg.AssetCheckSpec(
            check_name(s, e), asset=QUARANTINE_KEY, blocking=True,
            description=f"Great Expectations suite and row rules for raw.{s}__{e}; blocking "
            "problems stop staging, row failures are quarantined.",
        )
        for s, e in ENTITIES
    ],
)
def quarantine(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Validates every raw batch not validated yet (GX suites + row rules).

    Bad rows go to `quality.quarantine` with the rule, the reason and the landing reference;
    staging skips exactly those record versions. Records that never reached the raw tables
    (unreadable lines, records without a key) are counted and listed there too. History
    lands in `quality.validation_runs` and `quality.validation_results`; a readable report is
    written per run.
    """
    from quality.report import per_source
    from quality.validate import validate_all

    settings = pipeline_settings(warehouse)
    report_dir = settings.quality_dir
    results = validate_all(settings.warehouse, run_id=context.run.run_id,
                           as_of=datetime.now(UTC), report_dir=report_dir,
                           limits=settings.duckdb)
    report = report_dir / f"validation_{context.run.run_id}.html"
    by_entity = {(r.source, r.entity): r for r in results}
    checked = quarantined = 0
    for source, entity in ENTITIES:
        res = by_entity.get((source, entity))
        if res is None:
            yield dg.AssetCheckResult(check_name=check_name(source, entity), passed=True,
                                      description="No suite for this entity yet.")
            continue
        checked += res.rows_checked
        quarantined += res.rows_quarantined
        failed = [e for e in res.expectations if not e["success"]]
        yield dg.AssetCheckResult(
            check_name=check_name(res.source, res.entity),
            passed=res.passed,
            severity=dg.AssetCheckSeverity.ERROR if res.blocking_failures
            else dg.AssetCheckSeverity.WARN,
            description="; ".join(res.blocking_failures or res.warnings)[:2000] or None,
            metadata={
                "rows_checked": res.rows_checked,
                "rows_quarantined": res.rows_quarantined,
                "rows_set_aside": res.rows_set_aside,
                "failed_expectations": len(failed),
                "warnings": len(res.warnings),
                "report": dg.MetadataValue.url(f"file://{report}#{res.source}__{res.entity}"),
            },
        )
        if res.blocking_failures:
            context.log.error(
                f"raw.{res.source}__{res.entity} is unusable: "
                + " | ".join(res.blocking_failures)
                + f". Fix the source data or the connector, then re-run; report: {report}"
            )
    set_aside = {f"set_aside/{row['source']}": row["total"] for row in per_source(results)}
    yield dg.MaterializeResult(
        metadata={
            "rows_checked": checked,
            "rows_quarantined": quarantined,
            "rows_set_aside": sum(r.rows_set_aside for r in results),
            **set_aside,
            "dagster/row_count": table_row_counts(
                settings.warehouse, ["quality.quarantine"])["quality.quarantine"],
            "report": dg.MetadataValue.url(f"file://{report}"),
        }
    )
