"""The dashboard writes KPI values exactly as the reports do (reports.units), by catalogue unit."""

import math

from dashboard.units import fmt_delta, fmt_interval, fmt_value, unit_of
from reports.units import fmt_value as report_value


def test_values_with_their_unit_as_in_the_reports() -> None:
    assert fmt_value(0.625, "rate") == "62.5%"
    assert fmt_value(185.4, "minutes") == "3.1 h"
    assert fmt_value(45.2, "minutes") == "45 min"
    assert fmt_value(206.7, "seconds") == "3:27 min"
    assert fmt_value(29.46, "points") == "29.5 points"
    assert fmt_value(3.934, "pages") == "3.93 pages"
    assert fmt_value(43145, "visitors") == "43,145 visitors"
    assert fmt_value(None, "rate") == fmt_value(math.nan, "rate") == "n/a"
    assert fmt_value is report_value


def test_changes_of_rates_are_percentage_points() -> None:
    assert fmt_delta(-0.016, "rate") == "-1.6 pp"
    assert fmt_delta(2, "minutes") == "+2.0 min"
    assert fmt_delta(-383, "tickets") == "-383 tickets"
    assert fmt_delta(None, "rate") is None


def test_intervals() -> None:
    assert fmt_interval(0.581, 0.66, "rate") == "58.1–66.0%"
    assert fmt_interval(None, None, "minutes") == ""


def test_chart_scales() -> None:
    assert unit_of("rate").scale == 100 and unit_of("rate").axis == "%"
    assert unit_of("minutes").scale == 1
