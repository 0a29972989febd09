"""KPI values as people read them, by the catalogue's unit (`kpi_catalog.unit`): the one number
formatting of the reports and the dashboard. Plain Python, no chart library, so the dashboard
imports it without matplotlib."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

COUNT_UNITS = {"tickets", "visits", "visitors", "learners", "people", "responses", "units"}
MISSING = "n/a"


def is_missing(value: Any) -> bool:
    """None, pandas' NA or NaN."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _clock(seconds: float) -> str:
    """`207` -> `3:27`, `3725` -> `1:02:05`."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _number_and_suffix(value: float, unit: str | None, delta: bool) -> tuple[str, str]:
    """The number (without its sign) and the unit suffix of one value."""
    magnitude = abs(value)
    match unit:
        case "rate":
            return f"{100 * magnitude:.1f}", " pp" if delta else "%"
        case "minutes":
            if magnitude >= 120:
                return f"{magnitude / 60:,.1f}", " h"
            return (f"{magnitude:.1f}" if magnitude < 10 else f"{magnitude:.0f}"), " min"
        case "seconds":
            if magnitude >= 60:
                return _clock(magnitude), " min" if magnitude < 3600 else " h"
            return f"{magnitude:.0f}", " s"
        case "points":
            return f"{magnitude:.1f}", " points"
        case "pages":
            return f"{magnitude:.2f}", " pages"
        case str() if unit in COUNT_UNITS:
            text = f"{magnitude:,.0f}"
            return text, f" {unit[:-1]}" if text == "1" and unit.endswith("s") else f" {unit}"
        case str() if unit:
            return f"{magnitude:,.2f}", f" {unit}"
        case _:
            return f"{magnitude:,.2f}", ""


def fmt_value(value: Any, unit: str | None, *, delta: bool = False) -> str:
    """A KPI value as a manager reads it, by the catalogue's unit: rates `62.5%`, minutes
    `45 min` or `5.3 h`, seconds `42 s` or `3:27 min`, NPS `23.9 points`, pages `2.41 pages`,
    counts `1,204 tickets`. `delta=True` formats a signed difference (`+2.5 pp` for rates,
    `-1.2 h`). Missing values read `n/a`. The only number formatting of the reports."""
    if is_missing(value):
        return MISSING
    value = float(value)
    number, suffix = _number_and_suffix(value, unit, delta)
    sign = ("+" if value >= 0 else "-") if delta else ("-" if value < 0 else "")
    if not any(c in "123456789" for c in number):
        sign = "±" if delta else ""  # a difference that rounds to nothing, and no "-0.0"
    return f"{sign}{number}{suffix}"


def fmt_interval(low: Any, high: Any, unit: str | None) -> str:
    """A 95% interval `56.8–77.5%` (one unit when both ends share it), empty when absent."""
    if is_missing(low) or is_missing(high):
        return ""
    lo, hi = fmt_value(low, unit), fmt_value(high, unit)
    lo_suffix = _number_and_suffix(float(low), unit, False)[1]
    if lo_suffix == _number_and_suffix(float(high), unit, False)[1]:
        lo = lo.removesuffix(lo_suffix)
    return f"{lo}{' to ' if float(low) < 0 else '–'}{hi}"


def fmt_with_interval(value: Any, low: Any, high: Any, unit: str | None) -> str:
    """`68.0% (56.8–77.5%)`, or the value alone for KPIs without an interval."""
    interval = fmt_interval(low, high, unit)
    return f"{fmt_value(value, unit)} ({interval})" if interval else fmt_value(value, unit)
