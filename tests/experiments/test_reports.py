"""The "Experiments" section of the quarterly review and the monthly report."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from reports.monthly import render_support_monthly
from reports.quarterly import render_quarterly_review
from tests.conftest import SampleBuild

pytestmark = pytest.mark.slow


def test_quarterly_review_has_experiments(experiment_build: SampleBuild,
                                          tmp_path: Path) -> None:
    """2025-Q3 holds the broken-split and the too-small experiments: a forest plot, one row
    and one plain-language finding with a next step each."""
    result = render_quarterly_review(experiment_build.warehouse, "2025-Q3", tmp_path)
    html = result.html_path.read_text()
    assert '<section id="fig-experiments"><h2>Experiments</h2>' in html
    assert "<svg" in html.split('id="fig-experiments"')[1]
    texts = [f.text for f in result.findings if f.kind == "experiment"]
    assert len(texts) == 2 and all("Next:" in t for t in texts)
    assert any("invalid (broken split)" in t and "cannot be used" in t for t in texts)
    assert any("not yet conclusive" in t and "times as many units" in t for t in texts)
    markdown = result.md_path.read_text()
    assert "| Course reminder by SMS instead of e-mail | sms vs email | enrolment_30d |" in \
        markdown


def test_monthly_report_lists_the_month_s_experiments(experiment_build: SampleBuild,
                                                      tmp_path: Path) -> None:
    march = render_support_monthly(experiment_build.warehouse, "2025-03", tmp_path)
    [finding] = [f.text for f in march.findings if f.kind == "experiment"]
    assert finding.startswith("WhatsApp broadcast: 'Contact the seller now' button "
                              "(contact_now against control): ship it")
    assert "roll contact_now out to everyone" in finding
    november = render_support_monthly(experiment_build.warehouse, "2025-11", tmp_path)
    assert not [f for f in november.findings if f.kind == "experiment"]
    assert "fig-experiments" not in november.html_path.read_text()


def test_an_experiment_without_its_primary_metric_says_why(experiment_build: SampleBuild,
                                                           tmp_path: Path) -> None:
    """When the primary metric's source is not configured, experiment_results keeps only the
    other metrics' rows, whose reason says so; the report shows that reason, not "no exposures
    yet"."""
    build = experiment_build.with_warehouse(tmp_path / "build")
    reason = "enrolment_30d is measured from moodle, which is not configured: no decision"
    with duckdb.connect(str(build.warehouse)) as con:
        [experiment_id] = con.execute(
            "select distinct experiment_id from marts.experiment_results "
            "where is_primary and metric_id = 'enrolment_30d'").fetchone()
        con.execute("delete from marts.experiment_results where experiment_id = ? and is_primary",
                    [experiment_id])
        left = con.execute("update marts.experiment_results set decision = 'inconclusive', "
                           "decision_reason = ? where experiment_id = ?",
                           [reason, experiment_id]).fetchone()[0]
    assert left > 0, "the experiment has guardrail rows"
    markdown = render_quarterly_review(build.warehouse, "2025-Q3", tmp_path / "out").md_path \
        .read_text()
    assert "| Course reminder by SMS instead of e-mail |  | enrolment_30d |" in markdown
    row = next(line for line in markdown.splitlines()
               if line.startswith("| Course reminder by SMS instead of e-mail |"))
    assert reason in row and "no exposures yet" not in row
