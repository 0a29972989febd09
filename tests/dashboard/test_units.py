"""KPI values formatted by their catalogue unit."""

import math

from dashboard.units import fmt, fmt_delta, fmt_interval


def test_values_with_their_unit() -> None:
    assert fmt(0.625, "rate") == "62.5%"
    assert fmt(185.4, "minutes") == "185 min"
    assert fmt(208.2, "seconds") == "208 s"
    assert fmt(29.46, "points") == "29.5 pts"
    assert fmt(3.934, "pages") == "3.93 pages"
    assert fmt(43145, "visitors") == "43,145 visitors"
    assert fmt(1.5, "widgets") == "1.50 widgets"
    assert fmt(None, "rate") == fmt(math.nan, "rate") == "–"


def test_changes_of_rates_are_percentage_points() -> None:
    assert fmt_delta(-0.016, "rate") == "-1.6 pp"
    assert fmt_delta(2, "minutes") == "+2 min"
    assert fmt_delta(-383, "tickets") == "-383 tickets"
    assert fmt_delta(None, "rate") is None


def test_intervals() -> None:
    assert fmt_interval(0.581, 0.66, "rate") == "58.1–66.0%"
    assert fmt_interval(-0.2, 55.2, "points") == "-0.2–55.2 pts"
    assert fmt_interval(None, None, "minutes") == ""
