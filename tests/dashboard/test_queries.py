"""Reading the exports and the pure computations behind the pages, on small synthetic files."""

import os
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard import queries
from dashboard.data import Exports, MissingExportError
from dashboard.ui import csv_bytes


def _write(root: Path, name: str, sql: str) -> None:
    path = root / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect().execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")


def test_missing_export_is_an_error_naming_it(tmp_path: Path) -> None:
    ex = Exports(tmp_path)
    with pytest.raises(MissingExportError) as error:
        ex.query("SELECT * FROM {marts/kpi_values}")
    assert error.value.names == ["marts/kpi_values"]
    assert ex.missing("marts/kpi_values", "reference/kpi_catalog") == [
        "marts/kpi_values", "reference/kpi_catalog"]


def test_a_rewritten_export_is_read_again(tmp_path: Path) -> None:
    """Queries are cached on the files' mtime and size: a new pipeline run shows."""
    ex = Exports(tmp_path)
    _write(tmp_path, "marts/dim_source", "SELECT 'zendesk' AS source")
    assert ex.query("SELECT count(*) AS n FROM {marts/dim_source}")["n"][0] == 1
    _write(tmp_path, "marts/dim_source", "SELECT 'zendesk' AS source UNION ALL SELECT 'kobo'")
    path = ex.path("marts/dim_source")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert ex.query("SELECT count(*) AS n FROM {marts/dim_source}")["n"][0] == 2


def test_options_of_an_empty_exports_folder(tmp_path: Path) -> None:
    options = queries.options(Exports(tmp_path / "none"))
    assert options.periods == {} and options.segments == {"all": "Everyone"}


def test_default_period_skips_a_month_just_begun(tmp_path: Path) -> None:
    _write(tmp_path, "marts/kpi_values", """
        SELECT 'month' AS period_grain, DATE '2025-12-01' AS period_start, range AS value
        FROM range(10)
        UNION ALL SELECT 'month', DATE '2026-01-01', NULL FROM range(9)
        UNION ALL SELECT 'month', DATE '2026-01-01', 1.0""")
    options = queries.options(Exports(tmp_path))
    assert options.periods["month"] == ["2026-01", "2025-12"]
    assert options.default_periods["month"] == "2025-12"


def _action(before: float | None, low_b: float | None, high_b: float | None,
            latest: float | None, low_l: float | None, high_l: float | None,
            kpi: str = "course_completion_rate", target: float = 0.8, status: str | None = None,
            due: str = "2025-12-31", state: str = "in_progress", closed: str | None = None,
            ) -> dict:
    return {"kpi_id": kpi, "before_value": before, "before_ci_low": low_b,
            "before_ci_high": high_b, "latest_value": latest, "latest_ci_low": low_l,
            "latest_ci_high": high_l, "target": target, "latest_status": status,
            "due_date": pd.Timestamp(due), "status": state, "closed_date": pd.Timestamp(closed)}


def test_action_follow_up_uses_the_quarterly_reviews_verdict() -> None:
    directions = pd.Series({"course_completion_rate": "higher_is_better",
                            "first_reply_median_minutes": "lower_is_better"})
    actions = pd.DataFrame([
        _action(0.50, 0.45, 0.55, 0.70, 0.65, 0.75),  # apart, better
        _action(0.50, 0.40, 0.60, 0.55, 0.45, 0.65),  # overlapping, better, still running
        _action(0.60, 0.55, 0.65, 0.40, 0.35, 0.45),  # apart, worse
        _action(0.60, 0.50, 0.70, 0.58, 0.50, 0.66, due="2025-10-31"),  # no change, overdue
        _action(None, None, None, 0.70, 0.65, 0.75),  # nothing before the start
        _action(300, None, None, 200, None, None, kpi="first_reply_median_minutes",
                target=240),  # no interval: a third less, lower is better
        _action(0.70, 0.60, 0.80, 0.81, 0.71, 0.90, status="met"),  # meets the target
        _action(0.60, 0.50, 0.70, 0.61, 0.51, 0.71, due="2025-09-30", state="done",
                closed="2025-12-15"),  # closed after the day it is read on: still open
    ])
    out = queries.action_progress(actions, directions, date(2025, 12, 1))
    assert out["verdict"].tolist() == ["working", "not yet", "not working", "not working",
                                       "not yet", "working", "working", "not working"]
    assert out["verdict_reason"][4] == "no value before it started"
    assert out["gap_closed_pct"].round(1).tolist()[:2] == [66.7, 16.7]
    # 300 -> 200 minutes against a 240 target: the whole gap and more
    assert out["gap_closed_pct"].iloc[5] == pytest.approx(100 * 100 / 60)
    assert out["days_overdue"].tolist()[3] == 31
    assert out["days_overdue"].iloc[7] == 62 and not out["is_closed"].iloc[7]


def test_no_action_started_yet_gives_an_empty_follow_up() -> None:
    """A period before the first action started: no rows, not an error (the page then says
    there is no action)."""
    directions = pd.Series({"course_completion_rate": "higher_is_better"})
    none_yet = pd.DataFrame([_action(0.5, 0.4, 0.6, 0.7, 0.6, 0.8)]).iloc[:0]
    out = queries.action_progress(none_yet, directions, date(2025, 3, 1))
    assert out.empty and {"change", "gap_closed_pct", "verdict"} <= set(out.columns)


def test_csv_download_defuses_spreadsheet_formulas() -> None:
    data = pd.DataFrame({"item": ["=HYPERLINK(\"x\")", "Login problem", "@SUM(A1)"],
                         "tickets": [-3, 2, 1]})
    lines = csv_bytes(data).decode().splitlines()
    assert lines == ["item,tickets", "\"'=HYPERLINK(\"\"x\"\")\",-3", "Login problem,2",
                     "'@SUM(A1),1"]
