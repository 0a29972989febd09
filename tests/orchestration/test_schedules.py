"""Schedule ticks: the right partition for a given time in the organisation's time zone, and
every schedule running by default."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.definitions import defs

SAST = ZoneInfo("Africa/Johannesburg")


def _tick(name: str, moment: datetime) -> list[dg.RunRequest]:
    schedule = defs.resolve_schedule_def(name)
    with dg.build_schedule_context(scheduled_execution_time=moment,
                                   repository_def=defs.get_repository_def()) as context:
        return list(schedule.evaluate_tick(context).run_requests or [])


@pytest.mark.parametrize(("moment", "partition"), [
    (datetime(2025, 7, 2, 6, 0, tzinfo=SAST), "2025-06"),
    (datetime(2026, 1, 2, 6, 0, tzinfo=SAST), "2025-12"),
])
def test_monthly_refresh_targets_the_previous_month(moment: datetime, partition: str) -> None:
    [request] = _tick("monthly_refresh_schedule", moment)
    assert request.partition_key == partition


def test_quarterly_review_targets_the_previous_quarter() -> None:
    [request] = _tick("quarterly_review_schedule", datetime(2025, 10, 2, 7, 0, tzinfo=SAST))
    assert request.partition_key == "2025-07"


def test_schedules_are_local_time_and_running_by_default() -> None:
    expected = {"monthly_refresh_schedule": "0 6 2 * *",
                "quarterly_review_schedule": "0 7 2 1,4,7,10 *",
                "daily_pull_schedule": "0 5 * * *"}
    for name, cron in expected.items():
        schedule = defs.resolve_schedule_def(name)
        assert schedule.cron_schedule == cron
        assert schedule.execution_timezone == "Africa/Johannesburg"
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_every_stage_has_an_asset_group_and_descriptions() -> None:
    specs = list(defs.resolve_all_asset_specs())
    groups = {spec.group_name for spec in specs}
    assert {"ingestion", "quality", "staging", "intermediate", "marts", "reports"} <= groups
    undocumented = [s.key.to_user_string() for s in specs
                    if s.group_name != "seeds" and not s.description]
    assert not undocumented
