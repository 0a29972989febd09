"""Jobs and schedules (DESIGN.md section 9), in the organisation's time zone, on by default."""


from datetime import datetime

import dagster as dg

from orchestration.partitions import TIMEZONE

QUARTERLY_REPORT = dg.AssetKey(["reports", "quarterly_review"])

monthly_refresh = dg.define_asset_job(
    "monthly_refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(QUARTERLY_REPORT),
    description="Pull, validate, build the month's incremental models and every whole-history "
    "mart, export the marts and render the month's support report.",
    tags={"saypro/kind": "monthly"},
)

quarterly_review = dg.define_asset_job(
    "quarterly_review",
    selection=dg.AssetSelection.assets(QUARTERLY_REPORT),
    description="Render the quarterly review from the marts (run after the quarter's months).",
    tags={"saypro/kind": "quarterly"},
)

daily_pull = dg.define_asset_job(
    "daily_pull",
    selection=dg.AssetSelection.groups("ingestion", "quality"),
    description="Incremental pull of every configured source and validation of the new batches.",
)

monthly_refresh_schedule = dg.build_schedule_from_partitioned_job(
    monthly_refresh,
    name="monthly_refresh_schedule",
    description="2nd of each month at 06:00 local time, for the previous month.",
    day_of_month=2,
    hour_of_day=6,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


def previous_quarter_key(moment: datetime) -> str:
    """Partition key of the last complete quarter before `moment` ('2025-07' for 2025-Q3)."""
    quarter_start_month = (moment.month - 1) // 3 * 3 + 1
    year, month = moment.year, quarter_start_month - 3
    if month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}"


@dg.schedule(
    job=quarterly_review,
    cron_schedule="0 7 2 1,4,7,10 *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    name="quarterly_review_schedule",
    description="2nd day of each quarter at 07:00 local time, for the previous quarter.",
)
def quarterly_review_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    key = previous_quarter_key(context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"quarterly_review:{key}", partition_key=key)


daily_pull_schedule = dg.ScheduleDefinition(
    name="daily_pull_schedule",
    job=daily_pull,
    cron_schedule="0 5 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 05:00 local time: pull yesterday's records and validate them.",
)
