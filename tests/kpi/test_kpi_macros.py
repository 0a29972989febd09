"""The interval macros of macros/kpi/stats.sql against independent implementations.

The macros are rendered with plain Jinja (no dbt project needed) and executed in DuckDB; the
references are statsmodels' Wilson interval (with alpha chosen so that z = 1.96 exactly, as
DESIGN section 6 says) and the DESIGN NPS formula computed in Python.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import jinja2
import pytest
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

MACROS = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "kpi" / "stats.sql"
ALPHA_Z196 = 2 * norm.sf(1.96)


@pytest.fixture(scope="module")
def macros():
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals["var"] = lambda name, default=None: default
    return env.from_string(MACROS.read_text()).module


def _one(sql: str):
    with duckdb.connect() as con:
        return con.execute(sql).fetchone()[0]


def _sql(expr: str) -> float | None:
    return _one(f"select ({expr})::double")


@pytest.mark.parametrize(("successes", "trials"), [
    (45, 60), (0, 12), (12, 12), (1, 10), (7, 25), (29, 30), (500, 1000), (3, 997), (1, 1)])
def test_wilson_matches_statsmodels(macros, successes: int, trials: int) -> None:
    low, high = proportion_confint(successes, trials, alpha=ALPHA_Z196, method="wilson")
    args = (str(successes), str(trials))
    assert _sql(str(macros.kpi_wilson_low(*args))) == pytest.approx(low, abs=1e-12)
    assert _sql(str(macros.kpi_wilson_high(*args))) == pytest.approx(high, abs=1e-12)


def test_wilson_without_trials_is_null(macros) -> None:
    assert _sql(str(macros.kpi_wilson_low("0", "0"))) is None
    assert _sql(str(macros.kpi_wilson_high("0", "null"))) is None


@pytest.mark.parametrize(("promoters", "passives", "detractors"), [
    (50, 30, 20), (6, 5, 9), (10, 0, 0), (0, 0, 10), (120, 200, 80), (3, 4, 5)])
def test_nps_and_interval_match_formula(macros, promoters: int, passives: int,
                                        detractors: int) -> None:
    n = promoters + passives + detractors
    p, d = promoters / n, detractors / n
    nps = 100 * (p - d)
    half = 1.96 * 100 * math.sqrt((p + d - (p - d) ** 2) / n)
    args = (str(promoters), str(detractors), str(n))
    assert _sql(str(macros.kpi_nps(*args))) == pytest.approx(nps, abs=1e-9)
    assert _sql(str(macros.kpi_nps_ci_low(*args))) == pytest.approx(nps - half, abs=1e-9)
    assert _sql(str(macros.kpi_nps_ci_high(*args))) == pytest.approx(nps + half, abs=1e-9)


@pytest.mark.parametrize(("n", "label"), [
    (0, "suppressed"), (9, "suppressed"), (10, "indicative"), (29, "indicative"),
    (30, "reliable"), (5000, "reliable")])
def test_reliability_thresholds(macros, n: int, label: str) -> None:
    assert _one(f"select {macros.kpi_reliability(str(n))}") == label


@pytest.mark.parametrize(("value", "label"), [
    (0.05, "none"), (0.1, "weak"), (0.29, "weak"), (0.3, "moderate"), (0.5, "strong"),
    (0.9, "strong")])
def test_strength_labels(macros, value: float, label: str) -> None:
    assert _one(f"select {macros.kpi_strength(str(value))}") == label
