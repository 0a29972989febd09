"""Every page in Streamlit's AppTest: content on the demo's exports, the URL filters, a segment
pick, CSV downloads, and clear messages when exports are missing."""

from io import BytesIO
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.dashboard.conftest import PAGES, chart_data, run_app

# (page, text that shows it rendered real content)
CONTENT = {
    "views/overview.py": "Course completion rate",
    "views/segments.py": "Side by side",
    "views/root_causes.py": "Recurring issues",
    "views/corrective_actions.py": "One action over time",
    "views/data_quality.py": "Validation runs",
}


def _texts(at) -> str:
    """Every text the page shows (titles, captions, Markdown, metrics, messages)."""
    parts = [e.value for kind in ("title", "subheader", "caption", "markdown", "info",
                                  "warning", "success", "error") for e in at.get(kind)]
    parts += [m.label for m in at.get("metric")]
    return "\n".join(str(p) for p in parts)


@pytest.mark.slow
@pytest.mark.parametrize("page", list(CONTENT))
def test_page_renders_the_demo(page: str, demo_dir: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(demo_dir, monkeypatch, page, {"area": "learning"})  # overview's programme
    assert not at.exception, [e.value for e in at.exception]
    assert CONTENT[page] in _texts(at)
    assert at.get("download_button"), "every chart and table offers its CSV"


@pytest.mark.slow
def test_overview_tiles_carry_units_status_and_the_scorecard(
        demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values, texts = {}, ""
    for area in ("support", "learning", "surveys"):
        at = run_app(demo_dir, monkeypatch, params={"period": "2025-06", "area": area})
        assert not at.exception
        assert at.query_params["area"] == area, "the programme's tiles are in the link"
        values |= {m.label: m.value for m in at.get("metric")}
        texts += _texts(at)
    assert values["Course completion rate"].endswith("%")
    assert values["Median first reply time"].endswith((" min", " h"))
    assert values["Net Promoter Score"].endswith(" points")
    assert values["Ticket volume"].endswith(" tickets")
    assert "Missed" in texts or "At risk" in texts
    assert at.get("dataframe"), "gaps and freshness tables"


@pytest.mark.slow
def test_url_filters_round_trip(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    link = {"grain": "quarter", "period": "2025-Q3", "segment": "unemployed_youth_eastern_cape",
            "programme": "learning", "province": "eastern_cape"}
    at = run_app(demo_dir, monkeypatch, params=link)
    assert not at.exception
    assert at.query_params == link | {"area": "learning"}, "the link's filters, kept"
    assert at.radio(key="f_grain").value == "quarter"
    assert at.selectbox(key="f_period").value == "2025-Q3"
    assert at.multiselect(key="f_segments").value == ["unemployed_youth_eastern_cape"]
    assert at.selectbox(key="f_province").value == "eastern_cape"
    assert at.title[0].value == "Overview · 2025-Q3"
    assert {m.label for m in at.get("metric")} == {
        "Active learners", "Course completion rate", "Event attendance rate", "Pass rate"}
    # the same link opened again shows the same view
    again = run_app(demo_dir, monkeypatch, params=dict(at.query_params))
    assert [(m.label, m.value) for m in again.get("metric")] == [
        (m.label, m.value) for m in at.get("metric")]


@pytest.mark.slow
def test_a_bad_link_shows_what_was_dropped(demo_dir: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(demo_dir, monkeypatch, params={"segment": ["new_users", "nobody"],
                                                "period": "1999-01"})
    assert not at.exception
    notes = " ".join(c.value for c in at.sidebar.get("caption"))
    assert "'nobody' is unknown" in notes and "1999" in notes
    assert at.query_params["segment"] == "new_users"


@pytest.mark.slow
def test_a_segment_pick_changes_the_chart_data(demo_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(demo_dir, monkeypatch, "views/segments.py")
    [before] = [f for f in chart_data(at) if "segment" in f]
    assert set(before["segment"]) == {"Everyone"}
    at.multiselect(key="f_segments").set_value(["new_users", "youth_18_34"]).run()
    assert not at.exception
    [after] = [f for f in chart_data(at) if "segment" in f]
    assert set(after["segment"]) == {"New users (signed up in the month)", "Youth aged 18-34"}
    assert at.query_params["segment"] == ["new_users", "youth_18_34"]
    # every KPI of the catalogue has a panel, with its unit
    assert "Course completion rate (%)" in set(after["kpi"])


@pytest.mark.slow
def test_csv_downloads_hold_the_chart_data(demo_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                           downloads: dict[str, bytes]) -> None:
    at = run_app(demo_dir, monkeypatch, "views/segments.py",
                 {"segment": ["new_users", "unemployed"]})
    assert not at.exception
    trends = pd.read_csv(BytesIO(downloads["trends_month.csv"]))
    assert set(trends["segment_id"]) == {"new_users", "unemployed"}
    [drawn] = [f for f in chart_data(at) if "segment" in f]
    assert len(trends) == len(drawn)
    with duckdb.connect() as con:
        expected = con.execute(
            "SELECT count(*) FROM read_parquet(?) WHERE period_grain = 'month' "
            "AND segment_id IN ('new_users', 'unemployed')",
            [str(demo_dir / "exports" / "marts" / "kpi_values.parquet")]).fetchone()[0]
    assert len(trends) == expected

    at = run_app(demo_dir, monkeypatch, "views/root_causes.py", {"period": "2025-08"})
    pareto = pd.read_csv(BytesIO(downloads["pareto_fishbone_group_2025-08.csv"]))
    assert pareto["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert pareto["is_vital_few"].iloc[0]


@pytest.mark.slow
def test_root_cause_drill_is_in_the_link(demo_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(demo_dir, monkeypatch, "views/root_causes.py", {"period": "2025-08"})
    top = at.selectbox(key="p_group").options[1]
    at.selectbox(key="p_group").set_value(top).run()
    assert at.query_params["group"] == top
    assert f"within {top}" in _texts(at)
    category = at.selectbox(key="p_category").options[1]
    link = {**at.query_params, "category": category}
    again = run_app(demo_dir, monkeypatch, "views/root_causes.py", link)
    assert not again.exception
    assert again.selectbox(key="p_group").value == top
    assert again.selectbox(key="p_category").value == category
    assert f"Pareto of issue types within {top} › {category}" in _texts(again)


@pytest.mark.parametrize("page", PAGES)
def test_empty_data_dir_shows_a_message(page: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(tmp_path, monkeypatch, page)
    assert not at.exception, [e.value for e in at.exception]
    messages = " ".join(m.value for kind in ("warning", "info") for m in at.get(kind))
    assert "exports" in messages or "No experiments yet" in messages


def test_an_older_export_without_the_register_says_so(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "exports" / "marts").mkdir(parents=True)
    at = run_app(tmp_path, monkeypatch, "views/corrective_actions.py")
    assert not at.exception
    assert "corrective-action register is not in the exports" in at.info[0].value


def test_a_damaged_export_is_an_error_message(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    marts = tmp_path / "exports" / "marts"
    marts.mkdir(parents=True)
    (marts / "kpi_values.parquet").write_text("not parquet")
    at = run_app(tmp_path, monkeypatch)
    assert not at.exception
    assert "could not be read" in at.error[0].value


NOT_CONFIGURED = ("visit_conversion is measured from matomo, which is not configured: no "
                  "decision until it is")


def _experiment_exports(root: Path, *, primary: bool = True) -> None:
    """The two experiment marts with their contract columns only (DESIGN section 11); without
    `primary`, the results of an experiment whose primary metric's source is not configured
    (only the guardrail's row, with the reason)."""
    marts = root / "exports" / "marts"
    marts.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(f"""COPY (SELECT * FROM (VALUES
            ('wa_cta', 'contact_now', 'visit_conversion', true, 1010, 0.12, 0.10, 0.02, 0.005,
             0.035, 0.2, 0.004, NULL, 0.41, false, 0.1, 'ship',
             'primary effect positive, no guardrail worse', true),
            ('wa_cta', 'contact_now', 'tickets_per_unit_30d', false, 1010, 0.03, 0.03, 0.0,
             -0.01, 0.01, 0.0, 0.9, 0.9, 0.41, false, 0.5, 'ship',
             'primary effect positive, no guardrail worse', true))
            AS t(experiment_id, variant, metric_id, is_primary, units, value, control_value,
                 abs_effect, ci_low, ci_high, rel_effect, p_value, p_value_adjusted,
                 srm_p_value, srm_flag, achieved_mde, decision, decision_reason, is_final)
            WHERE ? OR NOT is_primary)
            TO '{marts / "experiment_results.parquet"}' (FORMAT parquet)""", [primary])
        if not primary:
            con.execute(f"""COPY (SELECT * REPLACE ('inconclusive' AS decision,
                                                 '{NOT_CONFIGURED}' AS decision_reason)
                                  FROM '{marts / "experiment_results.parquet"}')
                TO '{marts / "experiment_results.parquet"}' (FORMAT parquet)""")
        con.execute(f"""COPY (SELECT 'wa_cta' AS experiment_id, 'v' || range AS unit_id,
                CASE WHEN range % 2 = 0 THEN 'control' ELSE 'contact_now' END AS variant,
                TIMESTAMPTZ '2025-02-03 08:00:00+00' + to_hours(range) AS first_exposed_at,
                range = 7 AS is_multi_variant FROM range(40))
            TO '{marts / "fct_experiment_exposures.parquet"}' (FORMAT parquet)""")


def test_experiments_show_decision_effects_and_exposures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _experiment_exports(tmp_path)
    at = run_app(tmp_path, monkeypatch, "views/experiments.py")
    assert not at.exception, [e.value for e in at.exception]
    assert "ship" in _texts(at)
    frames = chart_data(at)
    assert any("effect_pct" in f for f in frames), "effects with intervals"
    exposures = next(f for f in frames if "cumulative_units" in f)
    assert set(exposures["variant"]) == {"control", "contact_now", "multi_variant"}
    assert at.query_params["experiment"] == "wa_cta"


def test_an_experiment_without_its_primary_metric_says_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _experiment_exports(tmp_path, primary=False)
    at = run_app(tmp_path, monkeypatch, "views/experiments.py")
    assert not at.exception, [e.value for e in at.exception]
    # shown as Markdown, escaped (dashboard.ui.md_escape)
    assert [w.value.replace("\\", "") for w in at.warning] == [NOT_CONFIGURED]
