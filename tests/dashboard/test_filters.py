"""Filters and their URL form, without Streamlit: labels, validation of link values, scope."""

from datetime import date

from dashboard.filters import (
    FilterOptions,
    Filters,
    parse_params,
    period_end,
    period_label,
    period_start,
    province_of_rule,
)

OPTIONS = FilterOptions(
    periods={"month": ["2025-12", "2025-11"], "quarter": ["2025-Q4", "2025-Q3"]},
    default_periods={"month": "2025-11", "quarter": "2025-Q3"},
    segments={"all": "Everyone", "new_users": "New users", "province_limpopo": "Limpopo",
              "informal_traders_limpopo": "Informal traders in Limpopo"},
    segment_provinces={"province_limpopo": "limpopo", "informal_traders_limpopo": "limpopo"},
    programmes={"learning": "Training and events", "web": "Classifieds site"},
    provinces={"limpopo": "Limpopo"},
    province_segments={"limpopo": "province_limpopo"},
)


def _params(filters: Filters) -> dict[str, list[str]]:
    """to_params in the shape query parameters arrive in (every value a list)."""
    return {k: v if isinstance(v, list) else [v] for k, v in filters.to_params().items()}


def test_period_labels_round_trip() -> None:
    assert period_label(date(2025, 9, 1), "month") == "2025-09"
    assert period_label(date(2025, 7, 1), "quarter") == "2025-Q3"
    assert period_start("2025-q3", "quarter") == date(2025, 7, 1)
    assert period_start("2025-13", "month") is None
    assert period_start("2025-09", "quarter") is None
    assert period_end(date(2025, 12, 1), "month") == date(2026, 1, 1)
    assert period_end(date(2025, 10, 1), "quarter") == date(2026, 1, 1)


def test_filters_survive_the_url() -> None:
    filters = Filters("quarter", "2025-Q4", ("informal_traders_limpopo", "province_limpopo"),
                      "learning", "limpopo")
    parsed, notes = parse_params(_params(filters), OPTIONS)
    assert parsed == filters
    assert notes == []


def test_link_values_are_checked_against_the_data() -> None:
    params = {"grain": ["week"], "period": ["1999-01"], "segment": ["new_users", "<script>"],
              "programme": ["unknown"], "province": ["atlantis"]}
    parsed, notes = parse_params(params, OPTIONS)
    assert parsed == Filters("month", "2025-11", ("new_users",), None, None)
    assert len(notes) == 5
    # a segment outside the chosen province is dropped
    parsed, notes = parse_params({"province": ["limpopo"], "segment": ["new_users"]}, OPTIONS)
    assert parsed.segments == ()
    assert notes == ["segment 'new_users' is unknown in this province"]


def test_no_period_in_the_link_takes_the_default_not_the_latest() -> None:
    assert parse_params({}, OPTIONS)[0].period == "2025-11"
    assert parse_params({"grain": ["quarter"]}, OPTIONS)[0].period == "2025-Q3"


def test_effective_segments() -> None:
    assert Filters().effective_segments(OPTIONS) == ["all"]
    assert Filters(province="limpopo").effective_segments(OPTIONS) == ["province_limpopo"]
    assert Filters(segments=("new_users",), province="limpopo").effective_segments(
        OPTIONS) == ["new_users"]
    assert OPTIONS.segments_for("limpopo") == ["province_limpopo", "informal_traders_limpopo"]


def test_province_of_rule() -> None:
    assert province_of_rule("employment_status = 'x' and province = 'limpopo'") == "limpopo"
    assert province_of_rule("age_band in ('18-24')") is None
