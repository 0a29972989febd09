"""KPI values as people read them, by the catalogue's unit: rates in %, changes of rates in
percentage points, minutes, seconds, NPS points, counts with thousands separators."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    scale: float  # stored value x scale = displayed value
    decimals: int
    suffix: str  # after the number
    delta_suffix: str  # after a change
    axis: str  # axis title


_UNITS = {
    "rate": Unit(100, 1, "%", " pp", "%"),
    "minutes": Unit(1, 0, " min", " min", "minutes"),
    "seconds": Unit(1, 0, " s", " s", "seconds"),
    "points": Unit(1, 1, " pts", " pts", "NPS points"),
    "pages": Unit(1, 2, " pages", " pages", "pages per visit"),
}
_COUNTS = {"tickets", "visits", "visitors", "learners"}


def unit_of(unit: str | None) -> Unit:
    """Display rules of a catalogue unit (unknown units: two decimals and the unit's name)."""
    unit = unit or ""
    if unit in _UNITS:
        return _UNITS[unit]
    if unit in _COUNTS:
        return Unit(1, 0, f" {unit}", f" {unit}", unit)
    return Unit(1, 2, f" {unit}" if unit else "", f" {unit}" if unit else "", unit or "value")


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt(value: float | None, unit: str | None) -> str:
    """`0.625, 'rate'` -> `62.5%`; `1234, 'tickets'` -> `1,234 tickets`; None -> `–`."""
    if _missing(value):
        return "–"
    u = unit_of(unit)
    return f"{value * u.scale:,.{u.decimals}f}{u.suffix}"


def fmt_delta(change: float | None, unit: str | None) -> str | None:
    """A signed change: `+2.5 pp` for rates, `-3 min` for minutes; None when unknown."""
    if _missing(change):
        return None
    u = unit_of(unit)
    return f"{change * u.scale:+,.{u.decimals}f}{u.delta_suffix}"


def fmt_interval(low: float | None, high: float | None, unit: str | None) -> str:
    """`58.1–66.0%`, or an empty string for KPIs without an interval."""
    if _missing(low) or _missing(high):
        return ""
    u = unit_of(unit)
    return f"{low * u.scale:,.{u.decimals}f}–{high * u.scale:,.{u.decimals}f}{u.suffix}"
