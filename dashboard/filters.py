"""The shared filters (period, segment, programme, province) and their form in the URL.

A link carries them as query parameters, e.g. `?grain=month&period=2025-09&segment=new_users
&segment=unemployed&programme=learning&province=eastern_cape`. Values come from the address
bar, so they are checked against the data's options; unknown ones are dropped with a note.

- period: a month (`2025-09`) or a quarter (`2025-Q3`) of `kpi_values`.
- segment: segment ids of `dim_segment` (several allowed; `all` is everyone).
- programme: a KPI area, the catalogue's `domain` (helpdesk, classifieds site, training and
  events, surveys); `kpi_values` has no finer programme split.
- province: narrows the segments to that province's (its province segment and the
  micro-segments within it); alone it selects the province segment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

GRAINS = ("month", "quarter")
PROGRAMME_LABELS = {"support": "Helpdesk", "web": "Classifieds site",
                    "learning": "Training and events", "surveys": "Beneficiary surveys"}
_PROVINCE_RULE = re.compile(r"province\s*=\s*'([a-z_]+)'")


def period_label(start: date, grain: str) -> str:
    """`2025-09` for a month, `2025-Q3` for a quarter."""
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def period_start(label: str, grain: str) -> date | None:
    """The first day of a period label, or None when the label is not one of `grain`."""
    pattern = r"(\d{4})-Q([1-4])" if grain == "quarter" else r"(\d{4})-(0[1-9]|1[0-2])"
    match = re.fullmatch(pattern, label.strip().upper())
    if not match:
        return None
    year, part = int(match[1]), int(match[2])
    return date(year, (part - 1) * 3 + 1 if grain == "quarter" else part, 1)


def period_end(start: date, grain: str) -> date:
    """The first day after the period."""
    months = start.month - 1 + (3 if grain == "quarter" else 1)
    return date(start.year + months // 12, months % 12 + 1, 1)


def province_of_rule(rule: str | None) -> str | None:
    """The province a segment rule restricts to (`province = 'gauteng'`), if any."""
    match = _PROVINCE_RULE.search(rule or "")
    return match[1] if match else None


@dataclass(frozen=True)
class FilterOptions:
    """What the data offers: period labels per grain (newest first) and the default one,
    segment names, the province each segment is restricted to, programme (domain) and province
    labels, and the segment of each whole province."""

    periods: dict[str, list[str]] = field(default_factory=dict)
    default_periods: dict[str, str] = field(default_factory=dict)
    segments: dict[str, str] = field(default_factory=dict)
    segment_provinces: dict[str, str] = field(default_factory=dict)
    programmes: dict[str, str] = field(default_factory=dict)
    provinces: dict[str, str] = field(default_factory=dict)
    province_segments: dict[str, str] = field(default_factory=dict)

    def segments_for(self, province: str | None) -> list[str]:
        """Segment ids to pick from: all of them, or the province's own."""
        if not province:
            return list(self.segments)
        return [s for s in self.segments if self.segment_provinces.get(s) == province]


@dataclass(frozen=True)
class Filters:
    grain: str = "month"
    period: str | None = None
    segments: tuple[str, ...] = ()
    programme: str | None = None
    province: str | None = None

    @property
    def start(self) -> date | None:
        return period_start(self.period, self.grain) if self.period else None

    @property
    def end(self) -> date | None:
        start = self.start
        return period_end(start, self.grain) if start else None

    def effective_segments(self, options: FilterOptions) -> list[str]:
        """The segments the pages show: the picked ones, else the province's, else `all`."""
        if self.segments:
            return list(self.segments)
        if self.province and self.province in options.province_segments:
            return [options.province_segments[self.province]]
        return ["all"]

    def to_params(self) -> dict[str, str | list[str]]:
        """Query parameters of a shareable link (unset filters are left out)."""
        params: dict[str, str | list[str]] = {"grain": self.grain}
        if self.period:
            params["period"] = self.period
        if self.segments:
            params["segment"] = list(self.segments)
        if self.programme:
            params["programme"] = self.programme
        if self.province:
            params["province"] = self.province
        return params


def parse_params(params: Mapping[str, Sequence[str]],
                 options: FilterOptions) -> tuple[Filters, list[str]]:
    """Filters from query parameters (each key -> its values), checked against `options`;
    returns them with notes on what was dropped."""
    notes: list[str] = []

    def one(key: str) -> str | None:
        values = [v for v in params.get(key, ()) if v]
        return values[-1] if values else None

    grain = one("grain") or "month"
    if grain not in GRAINS:
        notes.append(f"grain {grain!r} is not month or quarter: month shown")
        grain = "month"
    labels = options.periods.get(grain, [])
    period = one("period")
    if period is not None:
        start = period_start(period, grain)
        normal = period_label(start, grain) if start else None
        if normal not in labels:
            notes.append(f"period {period!r} has no data: the default {grain} shown")
            normal = None
        period = normal
    if period is None:
        period = options.default_periods.get(grain)
    province = one("province")
    if province is not None and province not in options.provinces:
        notes.append(f"province {province!r} is unknown: all provinces shown")
        province = None
    allowed = options.segments_for(province)
    segments: list[str] = []
    for segment in params.get("segment", ()):
        if segment in allowed and segment not in segments:
            segments.append(segment)
        elif segment not in segments:
            notes.append(f"segment {segment!r} is unknown"
                         + (" in this province" if province else ""))
    programme = one("programme")
    if programme is not None and programme not in options.programmes:
        notes.append(f"programme {programme!r} is unknown: all programmes shown")
        programme = None
    return Filters(grain, period, tuple(segments), programme, province), notes
