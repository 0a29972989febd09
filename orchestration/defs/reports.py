"""Outputs managers and BI tools read: Parquet exports and the monthly / quarterly reports."""


import json
from functools import cache

import dagster as dg

from orchestration.dbt_project import dbt_project
from orchestration.partitions import monthly_partitions, quarter_label, quarterly_partitions
from orchestration.resources import WarehouseResource, pipeline_settings


@cache
def mart_keys() -> list[dg.AssetKey]:
    """Asset keys of every dbt model in schema `marts`, read from the parsed manifest; ephemeral
    ones (part of the model reading them, no table) are no asset."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    return sorted(
        (dg.AssetKey(["marts", node["name"]]) for node in manifest["nodes"].values()
         if node["resource_type"] == "model" and node["schema"] == "marts"
         and node["config"]["materialized"] != "ephemeral"),
        key=lambda key: key.to_user_string(),
    )


def _report_metadata(result) -> dict:
    return {
        "html": dg.MetadataValue.path(str(result.html_path)),
        "markdown": dg.MetadataValue.path(str(result.md_path)),
        "findings": len(result.findings),
        "is_partial": result.is_partial,
        "findings_preview": dg.MetadataValue.md(
            "\n".join(f"- {f.text}" for f in result.findings[:10]) or "_none_"),
    }


@dg.asset(
    key=["exports", "marts"], group_name="reports", deps=mart_keys(),
    kinds={"parquet", "duckdb"}, owners=["team:analytics-engineering"],
)
def mart_exports(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Every mart exported to `$SAYPRO_DATA_DIR/exports/marts/<mart>.parquet` for BI tools."""
    from reports.exports import export_marts

    settings = pipeline_settings(warehouse)
    counts = export_marts(settings.warehouse, settings.exports_dir, settings.duckdb)
    return dg.MaterializeResult(metadata={
        "folder": dg.MetadataValue.path(str(settings.exports_dir)),
        "marts": len(counts),
        "rows_by_mart": dg.MetadataValue.json(counts),
        "dagster/row_count": sum(counts.values()),
    })


@dg.asset(
    key=["reports", "support_monthly"], group_name="reports", deps=mart_keys(),
    partitions_def=monthly_partitions, kinds={"html", "markdown"},
    owners=["team:support-operations"],
)
def support_monthly_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """SCMR-5 monthly support report: volumes, reply and resolution times, SLA, reopens, CSAT,
    backlog, site traffic and ad engagement, recurring issues and knowledge-base gaps."""
    from reports.monthly import render_support_monthly

    settings = pipeline_settings(warehouse)
    result = render_support_monthly(settings.warehouse, context.partition_key,
                                    settings.reports_dir, settings.duckdb)
    return dg.MaterializeResult(metadata=_report_metadata(result))


@dg.asset(
    key=["reports", "quarterly_review"], group_name="reports", deps=mart_keys(),
    partitions_def=quarterly_partitions, kinds={"html", "markdown"},
    owners=["team:monitoring-and-evaluation"],
)
def quarterly_review_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Quarterly review: scorecard against targets, gaps ranked by impact, segment review,
    root-cause analysis and the follow-up of corrective actions."""
    from reports.quarterly import render_quarterly_review

    settings = pipeline_settings(warehouse)
    result = render_quarterly_review(settings.warehouse, quarter_label(context.partition_key),
                                     settings.reports_dir, settings.duckdb)
    return dg.MaterializeResult(metadata=_report_metadata(result))
