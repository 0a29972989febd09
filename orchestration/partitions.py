"""Monthly and quarterly partitions in the organisation's local time zone (DESIGN.md section 9)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import dagster as dg

from ingestion.settings import Settings

_settings = Settings.from_env()
TIMEZONE = _settings.timezone
FIRST_MONTH = f"{_settings.start_date:%Y-%m}"

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH, timezone=TIMEZONE, fmt="%Y-%m", end_offset=0
)

# Dagster has no quarterly class: a time window on the first day of every third month. The
# quarter partition key is its first month ("2025-07" = 2025-Q3); it maps to its three months.
quarterly_partitions = dg.TimeWindowPartitionsDefinition(
    start=f"{FIRST_MONTH[:4]}-01",
    fmt="%Y-%m",
    cron_schedule="0 0 1 */3 *",
    timezone=TIMEZONE,
)


def quarter_label(partition_key: str) -> str:
    """'2025-07' → '2025-Q3'."""
    year, month = (int(x) for x in partition_key.split("-"))
    return f"{year}-Q{(month - 1) // 3 + 1}"


def quarter_partition_key(label: str) -> str:
    """'2025-Q3' → '2025-07'."""
    year, quarter = label.upper().split("-Q")
    return f"{int(year):04d}-{(int(quarter) - 1) * 3 + 1:02d}"


def month_bounds(month_key: str) -> tuple[date, date]:
    """Local month 'YYYY-MM' → (first day, first day of the next month)."""
    year, month = (int(x) for x in month_key.split("-"))
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def require_partitions(months: Iterable[str] = (), quarters: Iterable[str] = ()) -> None:
    """Raise a RuntimeError that says why, when a month ('YYYY-MM') or a quarter ('YYYY-Qn')
    is no partition: before SAYPRO_START_DATE, or not over yet in the organisation's time
    zone (the monthly refresh runs for the month before)."""
    periods = [(m, m, monthly_partitions, str) for m in months] + [
        (q, quarter_partition_key(q), quarterly_partitions, quarter_label) for q in quarters]
    known: dict[int, list[str]] = {}  # each definition's keys, listed once
    for label, key, partitions, label_of in periods:
        if id(partitions) not in known:
            known[id(partitions)] = partitions.get_partition_keys()
        keys = known[id(partitions)]
        if key in keys:
            continue
        if key < FIRST_MONTH:
            raise RuntimeError(
                f"{label} is before SAYPRO_START_DATE ({_settings.start_date}), where the "
                "history starts: set SAYPRO_START_DATE earlier to include it.")
        last = f"the last complete one is {label_of(keys[-1])}" if keys else "none is over yet"
        raise RuntimeError(f"{label} is not over yet in {TIMEZONE} ({last}): a month or quarter "
                           "is run once it has ended.")
