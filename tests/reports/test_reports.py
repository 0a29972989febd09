"""Reports rendered from the demo's marts: every period renders, charts and tables are
present, the planted stories appear in the findings, empty periods explain themselves."""

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from reports.exports import export_marts
from reports.monthly import render_support_monthly
from reports.quarterly import render_quarterly_review

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quarterly_review_surfaces_the_payment_surge(demo_run: tuple[Path, str],
                                                     tmp_path: Path) -> None:
    warehouse = demo_run[0] / "warehouse.duckdb"
    result = render_quarterly_review(warehouse, "2025-Q3", tmp_path)
    html = result.html_path.read_text()
    assert html.count("<svg") >= 2 and "<table" in html
    assert not result.is_partial
    texts = " ".join(f.text for f in result.findings)
    assert "Failed payment" in texts or "Billing and Payment" in texts
    for finding in result.findings:
        assert f'id="{finding.figure_id}"' in html, finding
        assert finding.text in result.md_path.read_text()


@pytest.mark.slow
def test_monthly_report_shows_the_slow_june(demo_run: tuple[Path, str], tmp_path: Path) -> None:
    warehouse = demo_run[0] / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        june, may = (con.execute("SELECT median_first_reply_minutes FROM marts.support_monthly "
                                 "WHERE month_start = ?", [d]).fetchone()[0]
                     for d in ("2025-06-01", "2025-05-01"))
    assert june > 2 * may  # the planted low-capacity month, computed from the mart
    result = render_support_monthly(warehouse, "2025-06", tmp_path)
    texts = " ".join(f.text for f in result.findings)
    assert f"{june / may:.1f} times the previous month" in texts
    assert "<svg" in result.html_path.read_text()


@pytest.mark.slow
def test_empty_period_renders_with_an_explanation(demo_run: tuple[Path, str],
                                                  tmp_path: Path) -> None:
    warehouse = demo_run[0] / "warehouse.duckdb"
    month = render_support_monthly(warehouse, "2031-01", tmp_path)
    quarter = render_quarterly_review(warehouse, "2031-Q1", tmp_path)
    for result in (month, quarter):
        assert result.is_partial and result.notes
        assert "Partial report" in result.html_path.read_text()


def test_missing_warehouse_renders_with_an_explanation(tmp_path: Path) -> None:
    result = render_support_monthly(tmp_path / "none.duckdb", "2025-01", tmp_path)
    assert result.is_partial
    assert any("support_monthly" in n for n in result.notes)


@pytest.mark.slow
def test_exports_read_back_with_the_same_rows(demo_run: tuple[Path, str],
                                              tmp_path: Path) -> None:
    warehouse = demo_run[0] / "warehouse.duckdb"
    counts = export_marts(warehouse, tmp_path)
    assert {"kpi_scorecard", "fct_tickets", "support_monthly"} <= set(counts)
    for mart, rows in counts.items():
        [(count,)] = duckdb.sql(f"SELECT count(*) FROM '{tmp_path / mart}.parquet'").fetchall()
        assert count == rows


@pytest.mark.slow
def test_reports_render_in_headless_chromium(demo_run: tuple[Path, str], tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, ("headless Chromium is required: `make test` installs it, "
                      "or `sudo apt-get install chromium`")
    reports = demo_run[0] / "reports"
    artefacts = REPO / "test-artefacts" / "screenshots"
    artefacts.mkdir(parents=True, exist_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1280,4000"]
    for name in ("quarterly_review_2025-Q3", "support_monthly_2025-06"):
        url = (reports / f"{name}.html").as_uri()
        shot = artefacts / f"{name}.png"
        subprocess.run([chromium, *flags, f"--screenshot={shot}", url], check=True,
                       capture_output=True, timeout=120)
        assert shot.stat().st_size > 20_000
        dom = subprocess.run([chromium, *flags, "--dump-dom", url], check=True,
                             capture_output=True, text=True, timeout=120).stdout
        assert "<svg" in dom and "<table" in dom
