"""Any subset of sources is a valid deployment (DESIGN.md section 3), through the real CLI.

A source that is not configured gets empty, contract-valid staging and marts; its KPIs are
absent from `kpi_values` and `kpi_scorecard` (never 0); reports and the run summary name it. A
source configured later back-fills its whole history on the next run, web months included.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from sandbox.server import SandboxHandle
from tests.conftest import clean_env

REPO = Path(__file__).resolve().parents[1]
SAYPRO = Path(sys.executable).with_name("saypro")
KPIS_BY_SOURCE = {
    "zendesk": {"ticket_volume", "first_reply_median_minutes", "frt_sla_compliance",
                "resolution_sla_compliance", "reopen_rate", "ticket_csat"},
    "matomo": {"visits", "unique_visitors", "bounce_rate", "pages_per_visit",
               "avg_time_on_site_seconds", "ad_ctr", "conversion_rate", "first_ad_success_rate"},
    "moodle": {"course_completion_rate", "event_attendance_rate", "pass_rate", "active_learners"},
    "kobo": {"nps", "survey_csat", "employment_outcome_rate", "negative_comment_share"},
}
MARTS_BY_SOURCE = {
    "zendesk": ["fct_tickets", "fct_ticket_backlog_daily", "support_monthly", "rca_pareto"],
    "matomo": ["fct_web_visits", "agg_web_traffic_monthly", "agg_web_pages_monthly"],
    "moodle": ["fct_enrolments"],
    "kobo": ["fct_survey_responses"],
}


def _run(env: dict[str, str], first: str, last: str) -> str:
    proc = subprocess.run([str(SAYPRO), "run", "--from", first, "--to", last], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _kpis(warehouse: Path, mart: str) -> set[str]:
    return {r[0] for r in _query(warehouse, f"SELECT DISTINCT kpi_id FROM marts.{mart}")}


def _drop_folder(sample: Path, root: Path, sources: list[str]) -> Path:
    drop = root / "drop"
    for source in sources:
        shutil.copytree(sample / source, drop / source)
    drop.mkdir(parents=True, exist_ok=True)
    return drop


@pytest.mark.slow
def test_one_source_from_a_drop_folder(sandbox_data: Path, tmp_path: Path) -> None:
    """Zendesk export files alone: support marts and KPIs, every other mart empty."""
    data_dir = tmp_path / "data"
    env = clean_env(data_dir) | {
        "SAYPRO_DROP_DIR": str(_drop_folder(sandbox_data, tmp_path, ["zendesk"])),
        "SAYPRO_PII_SALT": "subset-test-salt"}
    stdout = _run(env, "2025-03", "2025-03")
    assert "Sources: zendesk (drop); not configured: kobo, matomo, moodle" in stdout

    warehouse = data_dir / "warehouse.duckdb"
    assert _query(warehouse, "SELECT source, is_configured, last_pull_mode, raw_records > 0 "
                             "FROM marts.dim_source ORDER BY source") == [
        ("kobo", False, "skipped", False), ("matomo", False, "skipped", False),
        ("moodle", False, "skipped", False), ("zendesk", True, "drop", True)]
    for mart in MARTS_BY_SOURCE["zendesk"]:
        assert _query(warehouse, f"SELECT count(*) FROM marts.{mart}")[0][0] > 0, mart
    for source in ("matomo", "moodle", "kobo"):
        for mart in MARTS_BY_SOURCE[source]:
            assert _query(warehouse, f"SELECT count(*) FROM marts.{mart}")[0][0] == 0, mart
    assert _kpis(warehouse, "kpi_values") == KPIS_BY_SOURCE["zendesk"]
    assert _kpis(warehouse, "kpi_scorecard") <= KPIS_BY_SOURCE["zendesk"]

    for report in ("support_monthly_2025-03", "quarterly_review_2025-Q1"):
        text = (data_dir / "reports" / f"{report}.md").read_text()
        assert ("Not configured: KoboToolbox (surveys), Matomo (web analytics), "
                "Moodle (learning)") in text, report


@pytest.mark.slow
def test_sources_added_later_back_fill_their_history(
    sandbox_data: Path, clean_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """KoboToolbox over its API and Moodle from a drop folder; then Matomo's API is configured
    and the next one-month run back-fills every month of web visits and adds its KPIs."""
    data_dir = tmp_path / "data"
    api = clean_sandbox.env()
    kobo_api = {k: v for k, v in api.items() if k.startswith("KOBO_")}
    env = clean_env(data_dir) | kobo_api | {
        "SAYPRO_DROP_DIR": str(_drop_folder(sandbox_data, tmp_path, ["moodle"])),
        "SAYPRO_PII_SALT": "subset-test-salt"}
    stdout = _run(env, "2025-03", "2025-03")
    assert "Sources: kobo (api), moodle (drop); not configured: matomo, zendesk" in stdout
    warehouse = data_dir / "warehouse.duckdb"
    assert _kpis(warehouse, "kpi_values") == KPIS_BY_SOURCE["kobo"] | KPIS_BY_SOURCE["moodle"]
    assert _query(warehouse, "SELECT count(*) FROM marts.fct_web_visits")[0][0] == 0

    env |= {k: v for k, v in api.items() if k.startswith("MATOMO_")}
    stdout = _run(env, "2025-04", "2025-04")
    assert "Sources: kobo (api), matomo (api), moodle (drop); not configured: zendesk" in stdout
    assert _kpis(warehouse, "kpi_values") == (
        KPIS_BY_SOURCE["kobo"] | KPIS_BY_SOURCE["moodle"] | KPIS_BY_SOURCE["matomo"])
    # every month of the history, not only the run's: the same visits as staging, month by month
    built = _query(warehouse, "SELECT visit_month, count(*) FROM marts.fct_web_visits "
                              "GROUP BY ALL ORDER BY ALL")
    staged = _query(warehouse, "SELECT visit_month, count(*) FROM staging.stg_matomo__visits "
                               "WHERE visit_month IS NOT NULL GROUP BY ALL ORDER BY ALL")
    assert len(built) == 12 and built == staged
    traffic_months = _query(warehouse, "SELECT count(DISTINCT month_start) "
                                       "FROM marts.agg_web_traffic_monthly")[0][0]
    assert traffic_months == 12
