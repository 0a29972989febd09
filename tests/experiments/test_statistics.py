"""The experiment statistics (the functions of the dbt Python model) against textbook values.

Expected values are computed here independently of scipy and statsmodels: closed forms with
`math` and `statistics` (normal tail = erfc, the chi-square tail with 1 and 2 degrees of
freedom in closed form), and a published Welch example. The false-positive rate of a null
experiment is checked by simulation with the same statistics.
"""

from __future__ import annotations

import math
import statistics
from statistics import NormalDist

import numpy as np
import pytest

from tests.experiments.conftest import load_statistics

stats = load_statistics()
Z975 = NormalDist().inv_cdf(0.975)


def _two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def _binary(successes: int, n: int) -> object:
    return stats.Outcomes(np.array([1.0, 0.0]), np.array([1.0, 1.0]),
                          np.array([float(successes), float(n - successes)]))


def test_two_proportions_unpooled_z() -> None:
    """Control 200 / 1000, treatment 250 / 1000: the unpooled z of the difference."""
    result = stats.compare("proportion", _binary(200, 1000), _binary(250, 1000))
    se = math.sqrt(0.2 * 0.8 / 1000 + 0.25 * 0.75 / 1000)  # 0.0186414...
    assert result.value == pytest.approx(0.25)
    assert result.control_value == pytest.approx(0.20)
    assert result.abs_effect == pytest.approx(0.05)
    assert result.rel_effect == pytest.approx(0.25)
    assert result.statistic == pytest.approx(0.05 / se)  # 2.6822
    assert result.p_value == pytest.approx(_two_sided(0.05 / se))  # 0.00731
    assert result.ci_low == pytest.approx(0.05 - Z975 * se)  # 0.01346
    assert result.ci_high == pytest.approx(0.05 + Z975 * se)  # 0.08654
    assert round(result.p_value, 5) == 0.00731


def test_welch_t_published_example() -> None:
    """Wikipedia's "Welch's t-test", example 2 (unequal sizes and variances):
    t = -1.57, nu = 9.9, p = 0.149; the interval with the same t quantile."""
    a1 = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8]
    a2 = [21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8,
          20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8]
    result = stats.compare("mean", stats.Outcomes.from_units(a2), stats.Outcomes.from_units(a1))
    v1, v2 = statistics.variance(a1) / len(a1), statistics.variance(a2) / len(a2)
    t = (statistics.mean(a1) - statistics.mean(a2)) / math.sqrt(v1 + v2)
    assert result.statistic == pytest.approx(t)
    assert round(result.statistic, 2) == -1.57
    assert round(result.p_value, 3) == 0.149
    assert result.abs_effect == pytest.approx(statistics.mean(a1) - statistics.mean(a2))
    # the interval is symmetric around the effect, and its half-width / se is the t quantile
    # whose two-sided tail is 0.05, larger than the normal one with 9.9 degrees of freedom
    half = (result.ci_high - result.ci_low) / 2
    assert (result.ci_high + result.ci_low) / 2 == pytest.approx(result.abs_effect)
    assert 2.2 < half / math.sqrt(v1 + v2) < 2.25  # t(0.975, 9.9) = 2.2296


def test_welch_grouped_equals_per_unit() -> None:
    """Outcomes grouped by distinct value with unit counts (how the model reads them) give
    the same test as one row per unit."""
    a, b = [0, 0, 0, 1, 1, 2, 3], [0, 1, 1, 1, 2, 2, 4, 5]
    per_unit = stats.compare("mean", stats.Outcomes.from_units(a), stats.Outcomes.from_units(b))
    values, counts = np.unique(b, return_counts=True)
    grouped = stats.compare("mean", stats.Outcomes.from_units(a),
                            stats.Outcomes(values.astype(float), np.ones(len(values)),
                                           counts.astype(float)))
    assert grouped.p_value == pytest.approx(per_unit.p_value)
    assert grouped.ci_low == pytest.approx(per_unit.ci_low)


def test_ratio_metric_delta_method() -> None:
    """ad_ctr = clicks / views over units: the difference of ratios with the delta-method
    variance Var(R) = (s_x^2 - 2 R s_xy + R^2 s_y^2) / (n mean_y^2), sample moments."""
    rng = np.random.default_rng(3)
    views_c, views_t = rng.poisson(2.0, 400), rng.poisson(2.0, 380)
    clicks_c, clicks_t = rng.binomial(views_c, 0.25), rng.binomial(views_t, 0.30)

    def ratio_and_var(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        r = x.sum() / y.sum()
        sxx, syy = np.var(x, ddof=1), np.var(y, ddof=1)
        sxy = np.cov(x, y, ddof=1)[0, 1]
        return r, (sxx - 2 * r * sxy + r * r * syy) / (len(x) * y.mean() ** 2)

    (rc, vc), (rt, vt) = ratio_and_var(clicks_c, views_c), ratio_and_var(clicks_t, views_t)
    result = stats.compare("ratio", stats.Outcomes.from_units(clicks_c, views_c),
                           stats.Outcomes.from_units(clicks_t, views_t))
    se = math.sqrt(vc + vt)
    assert result.value == pytest.approx(rt)
    assert result.control_value == pytest.approx(rc)
    assert result.statistic == pytest.approx((rt - rc) / se)
    assert result.p_value == pytest.approx(_two_sided((rt - rc) / se))
    assert result.ci_low == pytest.approx(rt - rc - Z975 * se)
    assert result.ci_high == pytest.approx(rt - rc + Z975 * se)


def test_undefined_statistics_are_nan() -> None:
    """Fewer than 2 units in a variant, or no variation in either, give no test."""
    one = stats.compare("proportion", _binary(1, 1), _binary(30, 100))
    assert math.isnan(one.p_value) and one.value == pytest.approx(0.3)
    flat = stats.compare("proportion", _binary(0, 50), _binary(0, 60))
    assert math.isnan(flat.p_value) and flat.abs_effect == 0
    assert math.isnan(stats.achieved_mde(flat, 50, 60))


def test_holm_on_a_known_p_vector() -> None:
    """Holm: sorted p times (m - rank + 1), made monotone: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03,
    0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> 0.06; NaN is not a test and stays NaN."""
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005, float("nan")])
    assert adjusted[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert math.isnan(adjusted[4])
    assert stats.holm([0.2, 0.7]) == pytest.approx([0.4, 0.7])
    assert stats.holm([]) == []


@pytest.mark.parametrize("seed", range(5))
def test_holm_equals_statsmodels(seed: int) -> None:
    """The written-out Holm against statsmodels' multipletests on vectors with ties, values
    near 1 (capped) and NaN holes."""
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(seed)
    p = rng.choice(np.r_[rng.uniform(0, 1, 12), [0.5, 0.5, 0.001, 0.9]], size=14)
    p[rng.choice(14, size=3, replace=False)] = np.nan
    adjusted = np.array(stats.holm(p.tolist()))
    tested = ~np.isnan(p)
    assert np.isnan(adjusted[~tested]).all()
    assert adjusted[tested] == pytest.approx(multipletests(p[tested], method="holm")[1])


def test_srm_chi_square_goodness_of_fit() -> None:
    """5100 / 4900 against 50/50: chi2 = 4 with 1 df, p = erfc(sqrt(2)) = 0.0455. Three
    variants 3400 / 3300 / 3300 against equal thirds: chi2 = 2 with 2 df, p = exp(-1).
    Planned shares are read at any scale (60|40 = 0.6|0.4)."""
    assert stats.srm_p_value([5100, 4900], [0.5, 0.5]) == pytest.approx(math.erfc(math.sqrt(2)))
    assert stats.srm_p_value([3400, 3300, 3300], [1, 1, 1]) == pytest.approx(math.exp(-1))
    planned = [6000, 4000]
    assert stats.srm_p_value(planned, [60, 40]) == pytest.approx(1.0)
    assert stats.srm_p_value([821, 1000], [0.5, 0.5]) < stats.SRM_ALPHA
    assert math.isnan(stats.srm_p_value([0, 0], [0.5, 0.5]))


def test_achieved_mde_at_80_percent_power() -> None:
    """Two arms of 1000 with control rate 0.2: delta = (z_0.975 + z_0.8) x sd x sqrt(2 / n)
    = 0.0501, a relative MDE of 0.2506 (the test's other tail adds under 1e-6 of power)."""
    result = stats.compare("proportion", _binary(200, 1000), _binary(210, 1000))
    expected = (Z975 + NormalDist().inv_cdf(0.8)) * 0.4 * math.sqrt(2 / 1000) / 0.2
    assert stats.achieved_mde(result, 1000, 1000) == pytest.approx(expected, rel=1e-4)
    # unequal arms: 1 / n_c + 1 / n_t replaces 2 / n
    unequal = (Z975 + NormalDist().inv_cdf(0.8)) * 0.4 * math.sqrt(1 / 1000 + 1 / 250) / 0.2
    assert stats.achieved_mde(result, 1000, 250) == pytest.approx(unequal, rel=1e-4)


def test_experiment_rows_adjust_guardrails_only_and_share_srm() -> None:
    """One row per non-control variant and metric; the primary keeps its p-value, the
    guardrails are Holm-adjusted together; SRM and multi-variant units are per experiment."""
    import pandas as pd

    rows = []
    for variant, conversions, tickets in (("a", 200, 30), ("b", 260, 60), ("c", 205, 31)):
        rows += [{"variant": variant, "metric_id": "visit_conversion", "numerator": 1.0,
                  "denominator": 1.0, "units": conversions},
                 {"variant": variant, "metric_id": "visit_conversion", "numerator": 0.0,
                  "denominator": 1.0, "units": 1000 - conversions},
                 {"variant": variant, "metric_id": "tickets_per_unit_30d", "numerator": 1.0,
                  "denominator": 1.0, "units": tickets},
                 {"variant": variant, "metric_id": "tickets_per_unit_30d", "numerator": 0.0,
                  "denominator": 1.0, "units": 1000 - tickets}]
    experiment = {"experiment_id": "x", "variants": ["a", "b", "c"], "allocation": [1, 1, 1],
                  "metrics": ["visit_conversion", "tickets_per_unit_30d"],
                  "metric_kinds": ["proportion", "mean"],
                  "metric_directions": ["higher_is_better", "lower_is_better"]}
    out = stats.as_frame(stats.experiment_rows(experiment, {"a": 1000, "b": 1000, "c": 1000},
                                               7, pd.DataFrame(rows)))
    assert list(zip(out.variant, out.metric_id, strict=True)) == [
        ("b", "visit_conversion"), ("c", "visit_conversion"),
        ("b", "tickets_per_unit_30d"), ("c", "tickets_per_unit_30d")]
    primary = out[out.is_primary]
    assert (primary.p_value_adjusted == primary.p_value).all()
    guardrails = out[~out.is_primary]
    assert list(guardrails.p_value_adjusted) == pytest.approx(stats.holm(list(guardrails.p_value)))
    assert guardrails.p_value_adjusted.iloc[0] == pytest.approx(
        min(1.0, 2 * guardrails.p_value.min()))
    assert (out.srm_p_value == 1.0).all() and not out.srm_flag.any()
    assert (out.multi_variant_units == 7).all() and (out.control_units == 1000).all()


def test_empty_frame_is_typed() -> None:
    frame = stats.as_frame([])
    assert len(frame) == 0
    assert str(frame.experiment_id.dtype) == "string" and str(frame.p_value.dtype) == "Float64"


@pytest.mark.parametrize("kind", ["proportion", "mean", "ratio"])
def test_null_experiment_false_positive_rate(kind: str) -> None:
    """A null experiment (both variants drawn from the same per-unit distribution, sized like
    the sample's ad-placement experiment) is called significant at about the nominal 5%: over
    600 simulated experiments the rate lies within 2.5 binomial standard errors of 0.05."""
    rng = np.random.default_rng(2025)
    trials, significant = 600, 0
    for _ in range(trials):
        arms = []
        for n in (800, 820):
            if kind == "proportion":  # visit_conversion of a visitor
                arms.append(stats.Outcomes.from_units(rng.random(n) < 0.2))
            elif kind == "mean":  # tickets per unit: mostly 0, sometimes several
                arms.append(stats.Outcomes.from_units(rng.negative_binomial(1, 0.7, n)))
            else:  # ad_ctr: views per visitor, each clicked with the same chance
                views = rng.poisson(1.2, n)
                arms.append(stats.Outcomes.from_units(rng.binomial(views, 0.24), views))
        significant += stats.compare(kind, *arms).p_value < 0.05
    rate = significant / trials
    assert abs(rate - 0.05) < 2.5 * math.sqrt(0.05 * 0.95 / trials), rate
