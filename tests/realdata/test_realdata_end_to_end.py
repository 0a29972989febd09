"""Real public data end to end: OULAD learning records alone (Moodle) and the NPSgame survey
alone (Kobo), each a single-source deployment from a drop folder written by `saypro realdata`,
through `saypro run`. The KPIs in the marts are compared with figures computed here from the
original CSVs with pandas, without the converter, and with the reference values of the data
sets' SOURCE_AND_LICENSE.md files.

One monthly run is enough: the drop files load whole, and fct_enrolments,
fct_survey_responses and kpi_values are rebuilt over the whole history in every run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import clean_env

REPO = Path(__file__).resolve().parents[2]
SAYPRO = Path(sys.executable).with_name("saypro")
# The shared data sets sit beside the checkout (../shared/realdata); a clone made elsewhere
# (CI) finds them at the workplace's fixed path, or where SAYPRO_REALDATA_DIR points.
BESIDE = REPO.parent / "shared" / "realdata"
REALDATA = next((path for path in (Path(os.environ.get("SAYPRO_REALDATA_DIR", BESIDE)),
                                   Path("/work/shared/realdata"))
                 if (path / "oulad").is_dir()), BESIDE)
OULAD = REALDATA / "oulad"
NPS_CSV = REALDATA / "npsgame" / "nps.csv"
TOL = 1e-9

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (OULAD.is_dir() and NPS_CSV.is_file()),
                       reason=f"real data sets not found under {REALDATA}"),
]


# ------------------------------------------------------------------ runs (once per module)
@pytest.fixture(scope="module")
def drop_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`saypro realdata` output split into one drop folder per source."""
    root = tmp_path_factory.mktemp("realdata")
    proc = subprocess.run([str(SAYPRO), "realdata", "--oulad", str(OULAD), "--nps", str(NPS_CSV),
                           "--out", str(root / "converted")], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for source in ("moodle", "kobo"):
        shutil.move(root / "converted" / source, root / f"{source}_only" / source)
    return root


def _run(drop: Path, data_dir: Path, month: str) -> str:
    env = clean_env(data_dir) | {"SAYPRO_DROP_DIR": str(drop),
                                 "SAYPRO_PII_SALT": "realdata-test-salt",
                                 "SAYPRO_START_DATE": f"{month}-01"}
    proc = subprocess.run([str(SAYPRO), "run", "--from", month, "--to", month], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout


@pytest.fixture(scope="module")
def moodle_run(drop_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Moodle alone; the first cohort month (2013B starts in February 2013) is the run."""
    data_dir = tmp_path_factory.mktemp("moodle_data")
    stdout = _run(drop_root / "moodle_only", data_dir, "2013-02")
    return data_dir / "warehouse.duckdb", stdout


@pytest.fixture(scope="module")
def kobo_run(drop_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Kobo alone; the responses are spread over 2025, the run is its first month."""
    data_dir = tmp_path_factory.mktemp("kobo_data")
    stdout = _run(drop_root / "kobo_only", data_dir, "2025-01")
    return data_dir / "warehouse.duckdb", stdout


def _frame(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def _kpi(warehouse: Path, kpi_id: str) -> pd.DataFrame:
    """Segment `all` rows of one KPI that have observations, keyed by (grain, period start)."""
    frame = _frame(warehouse, f"""
        SELECT period_grain, strftime(period_start, '%Y-%m-%d') AS period_start, value, n,
               numerator, ci_low, ci_high
        FROM marts.kpi_values
        WHERE kpi_id = '{kpi_id}' AND segment_id = 'all' AND n > 0""")
    return frame.set_index(["period_grain", "period_start"]).sort_index()


def _validation(warehouse: Path, source: str) -> pd.DataFrame:
    return _frame(warehouse, f"""
        SELECT entity, rows_checked, rows_quarantined, passed, blocking_failures, warnings
        FROM quality.validation_entities WHERE source = '{source}'""")


def _periods(months: pd.Series) -> pd.DataFrame:
    """(grain, period start) of each record's month ('YYYY-MM-01') and quarter."""
    month_start = pd.to_datetime(months)
    quarter_start = month_start.dt.to_period("Q").dt.start_time
    return pd.DataFrame({"month": month_start.dt.strftime("%Y-%m-%d"),
                         "quarter": quarter_start.dt.strftime("%Y-%m-%d")})


# --------------------------------------------------------- independent figures (pandas)
def _oulad_results() -> pd.DataFrame:
    """One row per registration: cohort month (presentation B = February, J = October of its
    year, OULAD documentation) and whether its final result is Pass or Distinction."""
    info = pd.read_csv(OULAD / "studentInfo.csv")
    year = info["code_presentation"].str[:4]
    month = info["code_presentation"].str[4].map({"B": "02", "J": "10"})
    info["cohort_month"] = year + "-" + month + "-01"
    info["passed"] = info["final_result"].isin(["Pass", "Distinction"])
    return info


def _oulad_coursework_pass() -> pd.DataFrame:
    """Per registration: weight-averaged score of its scored assessments of non-zero weight
    (the course total the converter documents) >= 40, False without any."""
    keys = ["code_module", "code_presentation", "id_student"]
    assessments = pd.read_csv(OULAD / "assessments.csv")
    scores = pd.read_csv(OULAD / "studentAssessment.csv").merge(assessments, on="id_assessment")
    scores = scores[scores["score"].notna() & (scores["weight"] > 0)]
    sums = (scores.assign(points=scores["score"] * scores["weight"])
            .groupby(keys)[["points", "weight"]].sum())
    average = (sums["points"] / sums["weight"]).rename("average").reset_index()
    info = _oulad_results().merge(average, on=keys, how="left")
    info["coursework_pass"] = info["average"].ge(40)
    return info


def _rates_by_period(frame: pd.DataFrame, months: str, flag: str) -> dict[tuple[str, str], tuple]:
    """(grain, period start) -> (rate, n, numerator)."""
    periods = _periods(frame[months])
    out = {}
    for grain in ("month", "quarter"):
        grouped = frame[flag].groupby(periods[grain])
        for start, values in grouped:
            out[(grain, start)] = (values.mean(), len(values), values.sum())
    return out


def _nps_rows() -> pd.DataFrame:
    """The survey in file order with the month the converter's documented rule gives row k of
    N: month 1 + 12k // N of 2025."""
    rows = pd.read_csv(NPS_CSV, encoding="latin-1")
    k = pd.Series(range(len(rows)))
    rows["month"] = "2025-" + (1 + 12 * k // len(rows)).map("{:02d}".format) + "-01"
    return rows


def _nps(scores: pd.Series) -> dict[str, float]:
    """NPS with its 95% interval, DESIGN.md section 6."""
    n = len(scores)
    promoters, detractors = int((scores >= 9).sum()), int((scores <= 6).sum())
    p, d = promoters / n, detractors / n
    value = 100 * (p - d)
    half = 1.96 * 100 * math.sqrt((p + d - (p - d) ** 2) / n)
    return {"value": value, "n": n, "promoters": promoters, "detractors": detractors,
            "numerator": promoters - detractors, "ci_low": value - half, "ci_high": value + half}


def _nps_by_period() -> dict[tuple[str, str], dict[str, float]]:
    rows = _nps_rows()
    answered = rows[rows["nps"].notna()]
    periods = _periods(answered["month"])
    return {(grain, start): _nps(scores)
            for grain in ("month", "quarter")
            for start, scores in answered["nps"].groupby(periods[grain])}


# ----------------------------------------------------------------------- reference values
def test_reference_values_of_the_licence_notes() -> None:
    """The CSVs as read here give the figures SOURCE_AND_LICENSE.md states."""
    results = _oulad_results()
    assert len(results) == 32_593
    assert results["final_result"].value_counts().to_dict() == {
        "Pass": 12_361, "Withdrawn": 10_156, "Fail": 7_052, "Distinction": 3_024}
    assert round(100 * results["passed"].mean(), 2) == 47.20

    rows = _nps_rows()
    assert len(rows) == 13_954
    whole = _nps(rows["nps"].dropna())
    assert whole["n"] == 13_612
    assert (whole["promoters"], whole["detractors"]) == (8_465, 1_194)
    assert whole["n"] - whole["promoters"] - whole["detractors"] == 3_953
    assert round(whole["value"], 2) == 53.42
    assert (round(whole["ci_low"], 2), round(whole["ci_high"], 2)) == (52.32, 54.51)


# ----------------------------------------------------------------------------- Moodle only
def test_moodle_alone_lands_every_registration(moodle_run: tuple[Path, str]) -> None:
    warehouse, stdout = moodle_run
    assert "Sources: moodle (drop); not configured: kobo, matomo, zendesk" in stdout
    validation = _validation(warehouse, "moodle")
    assert set(validation["entity"]) == {"categories", "courses", "enrolments", "completions",
                                         "grades"}
    assert validation["rows_quarantined"].sum() == 0
    assert validation["passed"].all()
    for column in ("blocking_failures", "warnings"):  # no drift: the vendor's shape
        assert all(json.loads(v) == [] for v in validation[column]), validation[column].tolist()

    enrolments = _frame(warehouse, """
        SELECT count(*) AS n, count(DISTINCT person_id) AS people,
               count(*) FILTER (WHERE is_completed) AS completed,
               count(DISTINCT programme) AS programmes, min(programme) AS programme,
               count(DISTINCT cohort_month) AS cohorts
        FROM marts.fct_enrolments""").iloc[0]
    results = _oulad_results()
    assert enrolments["n"] == len(results)  # withdrawn students count too
    assert enrolments["people"] == results["id_student"].nunique() == 28_785
    assert enrolments["completed"] == results["passed"].sum() == 12_361 + 3_024
    assert (enrolments["programmes"], enrolments["programme"]) == (1, "course")
    assert enrolments["cohorts"] == 4


def test_course_completion_per_cohort_matches_the_csv(moodle_run: tuple[Path, str]) -> None:
    warehouse, _ = moodle_run
    expected = _rates_by_period(_oulad_results(), "cohort_month", "passed")
    actual = _kpi(warehouse, "course_completion_rate")
    assert set(actual.index) == set(expected)
    assert {start for grain, start in expected if grain == "month"} == {
        "2013-02-01", "2013-10-01", "2014-02-01", "2014-10-01"}
    for key, (rate, n, passed) in expected.items():
        row = actual.loc[key]
        assert row["n"] == n, key
        assert row["numerator"] == passed, key
        assert row["value"] == pytest.approx(rate, abs=TOL), key
    whole = _frame(warehouse, "SELECT avg(is_completed::int) AS r FROM marts.fct_enrolments")
    assert round(100 * whole["r"].iloc[0], 2) == 47.20


def test_pass_rate_is_the_coursework_average(moodle_run: tuple[Path, str]) -> None:
    """Grades land: pass_rate is the course total (weighted coursework average) >= 40."""
    warehouse, _ = moodle_run
    expected = _rates_by_period(_oulad_coursework_pass(), "cohort_month", "coursework_pass")
    actual = _kpi(warehouse, "pass_rate")
    assert set(actual.index) == set(expected)
    for key, (rate, n, passed) in expected.items():
        assert (actual.loc[key, "n"], actual.loc[key, "numerator"]) == (n, passed), key
        assert actual.loc[key, "value"] == pytest.approx(rate, abs=TOL), key


def test_moodle_alone_has_its_kpis_and_no_other(moodle_run: tuple[Path, str]) -> None:
    """DESIGN.md section 3: only the KPIs of sources that are not configured are absent. OULAD
    has no events programme, so event_attendance_rate is there with n = 0 in every period,
    suppressed (the targets start in 2024, after these cohorts: no scorecard rows here)."""
    warehouse, _ = moodle_run
    kpis = _frame(warehouse, """
        SELECT kpi_id, max(n) AS n, count(*) FILTER (WHERE reliability <> 'suppressed') AS shown
        FROM marts.kpi_values GROUP BY kpi_id""").set_index("kpi_id")
    assert set(kpis.index) == {"course_completion_rate", "event_attendance_rate", "pass_rate",
                               "active_learners"}
    assert (kpis.loc["event_attendance_rate", "n"], kpis.loc["event_attendance_rate", "shown"]) \
        == (0, 0)


# ------------------------------------------------------------------------------- Kobo only
def test_kobo_alone_lands_every_anonymous_response(kobo_run: tuple[Path, str]) -> None:
    warehouse, stdout = kobo_run
    assert "Sources: kobo (drop); not configured: matomo, moodle, zendesk" in stdout
    validation = _validation(warehouse, "kobo").set_index("entity")
    assert validation.loc["feedback", "rows_checked"] == 13_954
    assert validation["rows_quarantined"].sum() == 0
    assert validation["passed"].all()

    responses = _frame(warehouse, """
        SELECT count(*) AS n, count(person_id) AS with_person, count(nps_score) AS answered,
               count(csat_score) AS csat, count(*) FILTER (WHERE has_comment) AS comments
        FROM marts.fct_survey_responses WHERE form = 'feedback'""").iloc[0]
    rows = _nps_rows()
    assert responses["n"] == len(rows)
    assert responses["with_person"] == 0
    assert responses["answered"] == rows["nps"].notna().sum() == 13_612
    assert responses["csat"] == 0
    assert responses["comments"] == rows["explication"].notna().sum() == 3_839

    comment = _frame(warehouse, "SELECT comment_text FROM staging.stg_kobo__feedback_responses "
                                "WHERE response_id = 4")["comment_text"].iloc[0]
    assert "au magasin pour échange" in comment  # 0x82, DOS code page 850
    assert "le même produit" in comment  # 0xEA, Latin-1


def test_nps_per_month_and_quarter_matches_the_csv(kobo_run: tuple[Path, str]) -> None:
    warehouse, _ = kobo_run
    expected = _nps_by_period()
    actual = _kpi(warehouse, "nps")
    assert set(actual.index) == set(expected)
    assert len([k for k in expected if k[0] == "month"]) == 12
    for key, figures in expected.items():
        row = actual.loc[key]
        assert (row["n"], row["numerator"]) == (figures["n"], figures["numerator"]), key
        for column in ("value", "ci_low", "ci_high"):
            assert row[column] == pytest.approx(figures[column], abs=TOL), (key, column)

    # Anonymous responses count in `all` and in no other segment; no CSAT was invented.
    others = _frame(warehouse, "SELECT count(*) AS c FROM marts.kpi_values "
                               "WHERE kpi_id = 'nps' AND segment_id <> 'all' AND n > 0")
    assert others["c"].iloc[0] == 0
    assert _kpi(warehouse, "survey_csat").empty

    whole = _frame(warehouse, """
        SELECT count(nps_score) AS n, count(*) FILTER (WHERE nps_class = 'promoter') AS p,
               count(*) FILTER (WHERE nps_class = 'passive') AS m,
               count(*) FILTER (WHERE nps_class = 'detractor') AS d
        FROM marts.fct_survey_responses WHERE form = 'feedback'""").iloc[0]
    assert (whole["n"], whole["p"], whole["m"], whole["d"]) == (13_612, 8_465, 3_953, 1_194)
    assert round(100 * (whole["p"] - whole["d"]) / whole["n"], 2) == 53.42
