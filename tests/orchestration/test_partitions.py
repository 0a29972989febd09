"""Partition helpers and schedule ticks: right partition for a given time and time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.defs.jobs import previous_quarter_key
from orchestration.partitions import (
    month_bounds,
    monthly_partitions,
    quarter_label,
    quarter_partition_key,
    quarterly_partitions,
)
from orchestration.runner import completed_quarters, months_between

SAST = ZoneInfo("Africa/Johannesburg")


@pytest.mark.parametrize(("key", "label"), [("2025-01", "2025-Q1"), ("2025-04", "2025-Q2"),
                                            ("2025-07", "2025-Q3"), ("2025-10", "2025-Q4")])
def test_quarter_keys_round_trip(key: str, label: str) -> None:
    assert quarter_label(key) == label
    assert quarter_partition_key(label) == key


def test_quarter_partition_maps_to_its_three_months() -> None:
    mapping = dg.TimeWindowPartitionMapping()
    upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
        quarterly_partitions.subset_with_partition_keys(["2025-07"]),
        quarterly_partitions, monthly_partitions,
    ).partitions_subset.get_partition_keys()
    assert sorted(upstream) == ["2025-07", "2025-08", "2025-09"]


def test_month_bounds_cross_year() -> None:
    start, end = month_bounds("2025-12")
    assert (start.isoformat(), end.isoformat()) == ("2025-12-01", "2026-01-01")


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2025, 7, 2, 7, tzinfo=SAST), "2025-04"),
    (datetime(2026, 1, 2, 7, tzinfo=SAST), "2025-10"),
    (datetime(2025, 4, 2, 7, tzinfo=SAST), "2025-01"),
])
def test_previous_quarter(moment: datetime, expected: str) -> None:
    assert previous_quarter_key(moment) == expected


def test_months_and_completed_quarters() -> None:
    months = months_between("2025-02", "2025-07")
    assert months == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07"]
    assert completed_quarters(months) == ["2025-Q1", "2025-Q2"]


def test_monthly_partitions_are_local_time() -> None:
    window = monthly_partitions.time_window_for_partition_key("2025-03")
    assert window.start == datetime(2025, 3, 1, tzinfo=SAST)
    assert window.end == datetime(2025, 4, 1, tzinfo=SAST)


def test_a_failed_runs_summary_names_the_error_behind_the_step() -> None:
    """A step failure's event says only that the step failed: the summary `saypro` prints
    carries what the step raised (here a setting to fix), not Dagster's wrapping of it nor
    what it was raised from."""
    from orchestration.runner import _failure_reason

    @dg.op
    def needs_a_setting() -> None:
        try:
            raise KeyError("SAYPRO_EXAMPLE")
        except KeyError as missing:
            raise RuntimeError("SAYPRO_EXAMPLE is not set: set it and run again") from missing

    result = dg.GraphDefinition("g", node_defs=[needs_a_setting]).to_job().execute_in_process(
        raise_on_error=False)
    reasons = [_failure_reason(e) for e in result.all_events if e.is_step_failure]
    assert len(reasons) == 1
    assert reasons[0].startswith('Execution of step "needs_a_setting" failed.')
    assert "RuntimeError: SAYPRO_EXAMPLE is not set: set it and run again" in reasons[0], reasons
