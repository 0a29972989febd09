"""The "Experiments" section of the monthly report and the quarterly review.

For the experiments of the registry (`raw.experiments`) whose dates overlap the period: a
forest plot of every comparison (relative effect against control with its 95% interval), a
table of the decisions, and per variant a finding in plain language with what to try next.
Results are those of the latest run (`marts.experiment_results`): a period's report rendered
later shows the experiment's later state.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from matplotlib import pyplot as plt

from reports.common import Chart, Finding, Marts, chart
from reports.units import fmt_value

METRIC_NAMES = {
    "visit_conversion": "converting visitors (seller contact or ad posted)",
    "ad_ctr": "ad click-through",
    "registration_30d": "registrations within 30 days",
    "enrolment_30d": "course enrolments within 30 days",
    "completion_30d": "course completions within 30 days",
    "tickets_per_unit_30d": "support tickets within 30 days",
}
DECISION_LABELS = {
    "ship": "Ship it", "dont_ship": "Do not ship", "no_difference": "No difference",
    "inconclusive": "Not yet conclusive", "invalid": "Invalid (broken split)",
}
DECISION_COLOURS = {"ship": "#2f855a", "dont_ship": "#c53030", "no_difference": "#4a5568",
                    "inconclusive": "#b7791f", "invalid": "#805ad5"}


def add_experiments(marts: Marts, start: date, end: date, sections: list[dict[str, Any]],
                    findings: list[Finding]) -> None:
    """Append the section and findings for experiments running in [start, end)."""
    registry = marts.query("experiments", "SELECT * FROM raw.experiments WHERE start_date < ? "
                           "AND end_date >= ? ORDER BY start_date, experiment_id",
                           [end, start], schema="raw")
    if not len(registry):
        return
    results = marts.query("experiment_results", "SELECT * FROM marts.experiment_results WHERE "
                          "list_contains(?::VARCHAR[], experiment_id) ORDER BY experiment_id, "
                          "variant_order, is_primary DESC, metric_id",
                          [list(registry.experiment_id)])
    rows = []
    for experiment in registry.itertuples():
        mine = results[results.experiment_id == experiment.experiment_id] if len(results) \
            else pd.DataFrame()
        primary = mine[mine.is_primary] if len(mine) else mine
        if not len(primary):
            # no exposures yet, or the primary metric's source is not configured (its other
            # metrics' rows say why)
            rows.append({"Experiment": experiment.name, "Variant": "", "Primary metric":
                         experiment.primary_metric, "Control": "", "Variant value": "",
                         "Effect (95% interval)": "", "p": "", "Decision":
                         mine.decision_reason.iloc[0] if len(mine) else "no exposures yet",
                         "_class": ""})
            continue
        for r in primary.itertuples():
            rows.append({
                "Experiment": experiment.name, "Variant": f"{r.variant} vs {r.control_variant}",
                "Primary metric": r.metric_id, "Control": _value(r.control_value, r.metric_kind),
                "Variant value": _value(r.value, r.metric_kind),
                "Effect (95% interval)": _effect(r), "p": _p(r.p_value),
                "Decision": DECISION_LABELS[r.decision]
                + ("" if r.is_final else " (preliminary)"),
                "_class": {"ship": "met", "dont_ship": "missed", "invalid": "missed"}.get(
                    r.decision, "at_risk")})
            findings.append(Finding(_plain(experiment, r), "fig-experiments", "experiment"))
    section: dict[str, Any] = {
        "id": "fig-experiments", "title": "Experiments",
        "text": "A/B experiments running in the period, against their control. Decisions are "
                "taken once, after the end date (fixed horizon): results before it are "
                "preliminary. Chart: effect relative to control with its 95% interval, per "
                "variant and metric (filled dots: primary metrics).",
        "table": {"columns": ["Experiment", "Variant", "Primary metric", "Control",
                              "Variant value", "Effect (95% interval)", "p", "Decision"],
                  "rows": rows}}
    compared = results[results.rel_effect.notna()] if len(results) else results
    if len(compared):
        section["chart"] = forest_plot(compared)
    sections.append(section)


def forest_plot(results: pd.DataFrame) -> Chart:
    """Relative effect (%) of each comparison with its 95% interval, coloured by decision."""
    rows = results.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    for y, r in enumerate(rows.itertuples()):
        colour = DECISION_COLOURS[r.decision]
        low, high = 100 * r.rel_ci_low, 100 * r.rel_ci_high
        ax.plot([low, high], [y, y], color=colour, linewidth=2)
        ax.plot(100 * r.rel_effect, y, "o", color=colour,
                markerfacecolor=colour if r.is_primary else "white")
    ax.axvline(0, color="#718096", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(rows)), [f"{r.experiment_id}: {r.variant}, {r.metric_id}"
                                     for r in rows.itertuples()], fontsize=8)
    ax.set_xlabel("effect relative to control, % (95% interval)")
    handles = [plt.Line2D([], [], color=c, marker="o", linestyle="", label=DECISION_LABELS[d])
               for d, c in DECISION_COLOURS.items() if d in set(results.decision)]
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.set_title("Experiment effects against control")
    return chart(fig, "fig-experiments", "Experiment effects against control, with 95% "
                 "intervals")


def _value(value: Any, kind: str) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{value:.2f}" if kind == "mean" else fmt_value(value, "rate")


def _effect(r: Any) -> str:
    if pd.isna(r.rel_effect):
        return "n/a"
    interval = "" if pd.isna(r.rel_ci_low) else \
        f" ({100 * r.rel_ci_low:+.0f}% to {100 * r.rel_ci_high:+.0f}%)"
    return f"{100 * r.rel_effect:+.1f}%{interval}"


def _p(p: Any) -> str:
    return "n/a" if p is None or pd.isna(p) else f"{p:.2g}"


def _plain(experiment: Any, r: Any) -> str:
    """One finding: what happened, in words, and what to try next."""
    metric = METRIC_NAMES.get(r.metric_id, r.metric_id)
    head = f"{experiment.name} ({r.variant} against {r.control_variant}): " \
           f"{DECISION_LABELS[r.decision].lower()}"
    if not r.is_final:
        return (f"{head} for now, since it runs until {str(experiment.end_date)[:10]}. Next: "
                "wait for the end date before acting; interim numbers move.")
    if r.decision == "invalid":
        return (f"{head}: the variants did not get the planned share of units "
                f"({r.units} {r.variant} against {r.control_units} {r.control_variant}), so "
                "the results cannot be used. Next: find why one variant loses units (links "
                "that drop the campaign tags, a skewed assignment), fix it and run it again.")
    if r.decision == "inconclusive":
        if pd.isna(r.achieved_mde):
            return f"{head}: there is too little data to estimate the effect on {metric}. " \
                   "Next: let it reach more people before judging it."
        factor = (r.achieved_mde / r.mde_relative) ** 2  # units needed grow as 1 / MDE^2
        return (f"{head}: with {r.units + r.control_units} units it could only detect a "
                f"{r.achieved_mde:.0%} change in {metric}, not the {r.mde_relative:.0%} "
                f"planned. Next: it needs about {factor:.0f} times as many units: run it "
                "longer, on more traffic, or test a bolder change.")
    if r.decision == "ship":
        return (f"{head}: {metric} went from {_value(r.control_value, r.metric_kind)} to "
                f"{_value(r.value, r.metric_kind)}, {_effect(r)} relative to control (95% "
                "interval in brackets), and no guardrail got worse. "
                f"Next: roll {r.variant} out to everyone and test the next idea against it.")
    if r.decision == "dont_ship":
        return (f"{head}: {r.decision_reason} Next: keep {r.control_variant}, and rework "
                f"{r.variant} before testing it again.")
    return (f"{head}: {metric} was {_value(r.control_value, r.metric_kind)} with "
            f"{r.control_variant} and {_value(r.value, r.metric_kind)} with {r.variant}, and "
            f"the test could have detected a {r.achieved_mde:.0%} change. Next: keep the "
            "cheaper option and try a bolder change.")
