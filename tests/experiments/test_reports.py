"""The "Experiments" section of the quarterly review and the monthly report."""

from __future__ import annotations

from pathlib import Path

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
