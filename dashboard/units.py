"""Chart scales of the catalogue's units (a rate is drawn in %). Values are written by
reports.units, the one formatting of the reports and the dashboard, so both read alike."""

from __future__ import annotations

from dataclasses import dataclass

from reports.units import fmt_interval, fmt_value, is_missing

__all__ = ["Unit", "fmt_delta", "fmt_interval", "fmt_value", "unit_of"]


@dataclass(frozen=True)
class Unit:
    scale: float  # stored value x scale = value drawn on the axis
    axis: str  # axis title


_UNITS = {
    "rate": Unit(100, "%"),
    "minutes": Unit(1, "minutes"),
    "seconds": Unit(1, "seconds"),
    "points": Unit(1, "NPS points"),
    "pages": Unit(1, "pages per visit"),
}


def unit_of(unit: str | None) -> Unit:
    """How a catalogue unit is drawn (unknown units: as they are, titled by their name)."""
    return _UNITS.get(unit or "", Unit(1, unit or "value"))


def fmt_delta(change: float | None, unit: str | None) -> str | None:
    """A signed change (`+2.5 pp` for rates, `-1.2 h`), None when unknown (st.metric then
    shows no delta)."""
    return None if is_missing(change) else fmt_value(change, unit, delta=True)
