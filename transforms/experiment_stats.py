"""Experiment statistics (DESIGN.md section 11) with scipy and statsmodels.

One row per experiment that has exposed units × non-control variant × metric of the experiment
(its primary metric, then its guardrails), comparing the variant with the control:

- proportion metrics: difference of proportions, unpooled (Wald) 95% interval and the two-sided
  p-value of the same z (statsmodels confint_ / test_proportions_2indep, method "wald");
- mean metrics: difference of means, Welch t test and interval (statsmodels CompareMeans,
  unequal variances);
- ratio metrics (sum of numerators / sum of denominators over units): the delta method. Each
  unit's value is linearised as R + (numerator - R x denominator) / mean denominator, whose mean
  is R and whose variance / n is the delta-method variance of R; CompareMeans then gives the
  unpooled z test and interval of the difference.

rel_effect = abs_effect / control_value; rel_ci_* = the interval divided by the control value
(taken as fixed). p_value_adjusted: Holm across the experiment's non-primary comparisons (every
variant × guardrail); the primary comparison keeps its p-value. srm_p_value: chi-square goodness
of fit of the units per variant against the planned allocation (scipy); srm_flag when below
0.001. achieved_mde: the smallest relative effect the test detects with 80% power at alpha 0.05
(statsmodels NormalIndPower on the standardised effect), with the control's standard deviation
and the two sample sizes, as a share of the control value.

Units are the non-multi-variant units of int_experiment_exposures. Outcomes arrive grouped by
distinct (numerator, denominator) with their number of units (frequency weights), so the
frame stays small at any traffic.

Plain Python, used by both engines: the dbt Python model int_experiment_comparisons_tested on
DuckDB, and the Spark build (orchestration/spark_build.py), which dbt-spark cannot run Python
models for.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chisquare
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

ALPHA = 0.05
POWER = 0.80
SRM_ALPHA = 0.001
NAN = float("nan")

METHODS = {
    "proportion": "two-proportion z (unpooled)",
    "mean": "Welch t",
    "ratio": "delta-method z",
}

COLUMNS = {  # output column -> pandas dtype (explicit, so that an empty frame is typed)
    "experiment_id": "string", "variant": "string", "variant_order": "Int64",
    "metric_id": "string", "metric_kind": "string", "direction": "string",
    "is_primary": "boolean", "units": "Int64", "control_units": "Int64",
    "value": "Float64", "control_value": "Float64", "abs_effect": "Float64",
    "rel_effect": "Float64", "ci_low": "Float64", "ci_high": "Float64",
    "rel_ci_low": "Float64", "rel_ci_high": "Float64", "statistic": "Float64",
    "p_value": "Float64", "p_value_adjusted": "Float64", "method": "string",
    "achieved_mde": "Float64", "srm_p_value": "Float64", "srm_flag": "boolean",
    "multi_variant_units": "Int64",
}


@dataclass(frozen=True)
class Outcomes:
    """One variant's per-unit outcomes: distinct (numerator, denominator) pairs and the number
    of units with each."""

    numerator: np.ndarray
    denominator: np.ndarray
    units: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame) -> "Outcomes":
        return cls(frame["numerator"].to_numpy(dtype="float64"),
                   frame["denominator"].to_numpy(dtype="float64"),
                   frame["units"].to_numpy(dtype="float64"))

    @classmethod
    def from_units(cls, numerators: Any, denominators: Any = None) -> "Outcomes":
        """One pair per unit (denominator 1 unless given)."""
        num = np.asarray(numerators, dtype="float64")
        den = np.ones_like(num) if denominators is None else np.asarray(denominators, "float64")
        return cls(num, den, np.ones_like(num))

    @property
    def n(self) -> float:
        return float(self.units.sum())

    def value(self) -> float:
        """The variant's metric: mean of numerator / denominator per unit, or for a ratio the
        ratio of the sums (the same for proportions and means, whose denominator is 1)."""
        den = float(self.denominator @ self.units)
        return float(self.numerator @ self.units) / den if den else NAN


@dataclass(frozen=True)
class Comparison:
    value: float
    control_value: float
    abs_effect: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    control_sd: float  # standard deviation of one control unit's (linearised) value

    @property
    def rel_effect(self) -> float:
        return _relative(self.abs_effect, self.control_value)


def _relative(amount: float, control_value: float) -> float:
    return amount / control_value if control_value else NAN


def _linearised(outcomes: Outcomes) -> DescrStatsW:
    """The delta method's per-unit values of a ratio: mean R, variance / n = Var(R)."""
    ratio = outcomes.value()
    mean_denominator = float(outcomes.denominator @ outcomes.units) / outcomes.n
    values = ratio + (outcomes.numerator - ratio * outcomes.denominator) / mean_denominator
    return DescrStatsW(values, weights=outcomes.units)


def compare(kind: str, control: Outcomes, treatment: Outcomes) -> Comparison:
    """Treatment against control for one metric of kind proportion, mean or ratio. Statistics
    are NaN when a variant has fewer than 2 units, no denominator, or both have no variance."""
    value, control_value = treatment.value(), control.value()
    effect = value - control_value
    undefined = Comparison(value, control_value, effect, NAN, NAN, NAN, NAN, NAN)
    if min(control.n, treatment.n) < 2 or math.isnan(value) or math.isnan(control_value):
        return undefined
    if kind == "proportion":
        counts = (float(treatment.numerator @ treatment.units), treatment.n,
                  float(control.numerator @ control.units), control.n)
        control_sd = math.sqrt(control_value * (1 - control_value))
        if control_sd == 0 and value in (0.0, 1.0):
            return undefined
        test = test_proportions_2indep(*counts, method="wald", compare="diff",
                                       return_results=True)
        low, high = confint_proportions_2indep(*counts, method="wald", compare="diff",
                                               alpha=ALPHA)
        return Comparison(value, control_value, effect, float(low), float(high),
                          float(test.statistic), float(test.pvalue), control_sd)
    if kind == "mean":
        t = DescrStatsW(treatment.numerator / treatment.denominator, weights=treatment.units)
        c = DescrStatsW(control.numerator / control.denominator, weights=control.units)
    elif kind == "ratio":
        t, c = _linearised(treatment), _linearised(control)
    else:
        raise ValueError(f"unknown metric kind {kind!r}")
    if t.var == 0 and c.var == 0:
        return undefined
    means = CompareMeans(t, c)
    if kind == "mean":
        statistic, p_value, _ = means.ttest_ind(usevar="unequal")
        low, high = means.tconfint_diff(alpha=ALPHA, usevar="unequal")
    else:
        statistic, p_value = means.ztest_ind(usevar="unequal")
        low, high = means.zconfint_diff(alpha=ALPHA, usevar="unequal")
    return Comparison(value, control_value, effect, float(low), float(high), float(statistic),
                      float(p_value), math.sqrt(c.var_ddof(1)))


def achieved_mde(comparison: Comparison, control_units: float, units: float) -> float:
    """Smallest relative effect detected with 80% power by a two-sided test at alpha 0.05,
    given the control's standard deviation and both sample sizes."""
    if not comparison.control_sd or math.isnan(comparison.control_sd) or min(control_units,
                                                                             units) < 2:
        return NAN
    standardised = NormalIndPower().solve_power(effect_size=None, nobs1=units, alpha=ALPHA,
                                                power=POWER, ratio=control_units / units)
    return abs(_relative(float(standardised) * comparison.control_sd, comparison.control_value))


def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values; NaN stays NaN and does not count as a test. Sorted ascending,
    the k-th of m tests is multiplied by m - k + 1, made non-decreasing and capped at 1.

    Written out rather than statsmodels' `multipletests(method="holm")`, which gives the same
    values but runs a full `gc.collect()` on every call: about half a second each inside the
    pipeline's process, whose heap holds Dagster's and dbt's objects (benchmarks/README.md)."""
    p = np.asarray(p_values, dtype="float64")
    adjusted = np.full_like(p, NAN)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    multipliers = np.arange(len(order), 0, -1)
    adjusted[order] = np.minimum(np.maximum.accumulate(p[order] * multipliers), 1.0)
    return adjusted.tolist()


def srm_p_value(units: list[float], allocation: list[float]) -> float:
    """Chi-square goodness of fit of the units per variant against the planned shares."""
    total = float(sum(units))
    if total == 0:
        return NAN
    expected = [total * share / sum(allocation) for share in allocation]
    return float(chisquare(units, expected).pvalue)


def experiment_rows(experiment: dict[str, Any], units: dict[str, int], multi_variant_units: int,
                    outcomes: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of one experiment. `experiment`: variants (control first), allocation, metrics
    (primary first), metric_kinds, metric_directions; `units`: non-multi-variant units per
    variant; `outcomes`: variant, metric_id, numerator, denominator, units."""
    variants = list(experiment["variants"])
    control = variants[0]
    units_per_variant = [float(units.get(v, 0)) for v in variants]
    srm = srm_p_value(units_per_variant, list(experiment["allocation"]))
    rows = []
    for metric, kind, direction in zip(experiment["metrics"], experiment["metric_kinds"],
                                       experiment["metric_directions"], strict=True):
        of_metric = outcomes[outcomes["metric_id"] == metric]
        control_outcomes = Outcomes.of(of_metric[of_metric["variant"] == control])
        for order, variant in enumerate(variants[1:], start=2):
            result = compare(kind, control_outcomes,
                             Outcomes.of(of_metric[of_metric["variant"] == variant]))
            control_value = result.control_value
            rows.append({
                "experiment_id": experiment["experiment_id"], "variant": variant,
                "variant_order": order, "metric_id": metric, "metric_kind": kind,
                "direction": direction, "is_primary": metric == experiment["metrics"][0],
                "units": units.get(variant, 0), "control_units": units.get(control, 0),
                "value": result.value, "control_value": control_value,
                "abs_effect": result.abs_effect, "rel_effect": result.rel_effect,
                "ci_low": result.ci_low, "ci_high": result.ci_high,
                "rel_ci_low": _relative(result.ci_low, control_value),
                "rel_ci_high": _relative(result.ci_high, control_value),
                "statistic": result.statistic, "p_value": result.p_value,
                "method": METHODS[kind],
                "achieved_mde": achieved_mde(result, units.get(control, 0),
                                             units.get(variant, 0)),
                "srm_p_value": srm, "srm_flag": bool(srm < SRM_ALPHA),
                "multi_variant_units": multi_variant_units,
            })
    secondary = [r for r in rows if not r["is_primary"]]
    for row, adjusted in zip(secondary, holm([r["p_value"] for r in secondary]), strict=True):
        row["p_value_adjusted"] = adjusted
    for row in rows:
        if row["is_primary"]:
            row["p_value_adjusted"] = row["p_value"]
    return rows


def as_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series([r[column] for r in rows], dtype=dtype)
                         for column, dtype in COLUMNS.items()})


def comparisons(experiments: pd.DataFrame, exposures: pd.DataFrame,
                outcomes: pd.DataFrame) -> pd.DataFrame:
    """The rows of int_experiment_comparisons_tested. `experiments`: int_experiments_validated;
    `exposures`: units per experiment_id, variant, is_multi_variant (of
    int_experiment_exposures); `outcomes`: units per experiment_id, variant, metric_id,
    numerator, denominator (of int_experiment_outcomes_measured)."""
    rows: list[dict[str, Any]] = []
    for experiment in experiments.to_dict("records"):
        exposed = exposures[exposures["experiment_id"] == experiment["experiment_id"]]
        if exposed.empty:  # no traffic yet: no results
            continue
        single = exposed[~exposed["is_multi_variant"].astype(bool)]
        rows += experiment_rows(
            experiment,
            dict(zip(single["variant"], single["units"].astype(int), strict=True)),
            int(exposed.loc[exposed["is_multi_variant"].astype(bool), "units"].sum()),
            outcomes[outcomes["experiment_id"] == experiment["experiment_id"]],
        )
    return as_frame(rows)
