"""The dashboard's questions to the exports, one function each: data in, DataFrames out, no UI.

Rows that a page filters further (by programme or segment) are filtered in pandas after a
broader query, so the cached result serves every filter value.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pandas as pd

from dashboard.data import Exports
from dashboard.filters import (
    PROGRAMME_LABELS,
    FilterOptions,
    period_end,
    period_label,
    province_of_rule,
)

DOMAIN_ORDER = list(PROGRAMME_LABELS)
FAMILY_ORDER = ["lifecycle", "demographic", "micro"]
PARETO_LEVELS = ("fishbone_group", "category", "issue_type")
LEVEL_LABELS = {"fishbone_group": "fishbone group", "category": "category",
                "issue_type": "issue type"}
_UNMAPPED = {"fishbone_group": "Unknown", "category": "Uncategorised",
             "issue_type": "Uncategorised"}


def catalog(ex: Exports) -> pd.DataFrame:
    """One row per KPI: kpi_id, name, domain, unit, direction, description. From the exported
    catalogue seed; an export written before it was exported falls back to the scorecard's
    units, with the id as the name."""
    if ex.has("reference/kpi_catalog"):
        df = ex.query("SELECT kpi_id, name, domain, unit, direction, description "
                      "FROM {reference/kpi_catalog}")
    else:
        df = ex.query("SELECT DISTINCT kpi_id, kpi_id AS name, NULL::VARCHAR AS domain, unit, "
                      "direction, NULL::VARCHAR AS description FROM {marts/kpi_scorecard}")
    order = {d: i for i, d in enumerate(DOMAIN_ORDER)}
    df["_order"] = df["domain"].map(order).fillna(len(order))
    return df.sort_values(["_order", "name"]).drop(columns="_order").reset_index(drop=True)


def options(ex: Exports) -> FilterOptions:
    """The filters' choices as the exports offer them (empty where an export is missing)."""
    periods: dict[str, list[str]] = {}
    defaults: dict[str, str] = {}
    if ex.has("marts/kpi_values"):
        rows = ex.query("SELECT period_grain, period_start, count(value) AS values "
                        "FROM {marts/kpi_values} GROUP BY ALL ORDER BY period_start DESC")
        for grain, group in rows.groupby("period_grain"):
            labels = [period_label(start.date(), grain) for start in group["period_start"]]
            periods[grain] = labels
            # the latest period with at least half the values of the fullest: a month just
            # begun (or cut off by the run's as-of date) holds a handful
            full = group["values"] >= group["values"].max() / 2
            defaults[grain] = labels[int(full.to_numpy().argmax())]
    segments, segment_provinces = {"all": "Everyone"}, {}
    provinces: dict[str, str] = {}
    province_segments: dict[str, str] = {}
    if ex.has("marts/dim_segment"):
        for row in current_segments(ex).itertuples(index=False):
            segments[row.segment_id] = row.name
            province = province_of_rule(row.rule)
            if province:
                segment_provinces[row.segment_id] = province
                if row.rule.strip() == f"province = '{province}'":
                    province_segments[province] = row.segment_id
                    provinces[province] = row.name
        for province in set(segment_provinces.values()) - set(provinces):
            provinces[province] = province.replace("_", " ").title()
    programmes = {}
    if ex.has("marts/kpi_scorecard") or ex.has("reference/kpi_catalog"):
        for domain in catalog(ex)["domain"].dropna().unique():
            programmes[domain] = PROGRAMME_LABELS.get(domain, str(domain).title())
    return FilterOptions(periods, defaults, segments, segment_provinces, programmes,
                         dict(sorted(provinces.items(), key=lambda kv: kv[1])),
                         province_segments)


def current_segments(ex: Exports) -> pd.DataFrame:
    """The latest version of every segment, lifecycle first, then demographic, then micro."""
    df = ex.query("SELECT segment_id, name, family, rule FROM {marts/dim_segment} "
                  "QUALIFY row_number() OVER (PARTITION BY segment_id ORDER BY version DESC) = 1")
    order = {f: i for i, f in enumerate(FAMILY_ORDER)}
    df["_order"] = df["family"].map(order).fillna(len(order))
    return df.sort_values(["_order", "name"]).drop(columns="_order").reset_index(drop=True)


def segment_history(ex: Exports, grain: str, segment: str, until: date) -> pd.DataFrame:
    """Every KPI of one segment up to `until`: value, interval, n, reliability, and the
    scorecard's target and status where the KPI has a target."""
    return ex.query(
        "SELECT v.kpi_id, v.period_start, v.value, v.ci_low, v.ci_high, v.n, v.reliability, "
        "s.target, s.status, s.shortfall, s.shortfall_pct, s.priority_rank, s.owner "
        "FROM {marts/kpi_values} v LEFT JOIN {marts/kpi_scorecard} s "
        "USING (period_grain, period_start, kpi_id, segment_id) "
        "WHERE v.period_grain = ? AND v.segment_id = ? AND v.period_start <= ? "
        "ORDER BY v.kpi_id, v.period_start", [grain, segment, until])


def tiles(ex: Exports, grain: str, start: date, segment: str, history: int = 12) -> pd.DataFrame:
    """One row per KPI of the catalogue that has a value in the period for the segment: its
    value and scorecard fields, the previous period's value and the change, and `spark`, the
    values of the last `history` periods (suppressed ones left out)."""
    hist = segment_history(ex, grain, segment, start)
    if hist.empty:
        return pd.DataFrame()
    hist["period_start"] = hist["period_start"].dt.date
    previous_start = _previous(start, grain)
    rows = []
    for _, series in hist.groupby("kpi_id", sort=False):
        now = series[series["period_start"] == start]
        if now.empty:
            continue
        row = now.iloc[0].to_dict()
        before = series[series["period_start"] == previous_start]["value"]
        row["previous_value"] = before.iloc[0] if len(before) else None
        row["change"] = (row["value"] - row["previous_value"]
                         if pd.notna(row["value"]) and pd.notna(row["previous_value"]) else None)
        row["spark"] = series["value"].tail(history).dropna().astype(float).tolist()
        rows.append(row)
    df = pd.DataFrame(rows)
    return catalog(ex).merge(df, on="kpi_id", how="inner")


def _previous(start: date, grain: str) -> date:
    months = start.year * 12 + start.month - 1 - (3 if grain == "quarter" else 1)
    return date(months // 12, months % 12 + 1, 1)


def gaps(ex: Exports, grain: str, start: date) -> pd.DataFrame:
    """The period's missed and at-risk targets of every segment, worst first (priority rank),
    with `since`: the first period of the current run of periods without `met`."""
    return ex.query(
        """WITH hist AS (
               SELECT kpi_id, segment_id, period_start, status FROM {marts/kpi_scorecard}
               WHERE period_grain = ? AND period_start <= ?),
           last_met AS (
               SELECT kpi_id, segment_id,
                      max(period_start) FILTER (WHERE status = 'met') AS last_met
               FROM hist GROUP BY ALL),
           since AS (
               SELECT h.kpi_id, h.segment_id, min(h.period_start) AS since
               FROM hist h JOIN last_met l USING (kpi_id, segment_id)
               WHERE h.period_start > coalesce(l.last_met, DATE '0001-01-01')
                 AND h.status IN ('missed', 'at_risk')
               GROUP BY ALL)
           SELECT s.priority_rank, s.kpi_id, s.segment_id, s.status, s.actual, s.ci_low,
                  s.ci_high, s.target, s.shortfall, s.shortfall_pct, s.people_affected,
                  s.impact_score, s.impact_tier, s.owner, s.n, since.since
           FROM {marts/kpi_scorecard} s LEFT JOIN since USING (kpi_id, segment_id)
           WHERE s.period_grain = ? AND s.period_start = ? AND s.status IN ('missed', 'at_risk')
           ORDER BY s.priority_rank NULLS LAST, s.impact_score DESC, s.kpi_id, s.segment_id""",
        [grain, start, grain, start])


def insufficient(ex: Exports, grain: str, start: date) -> pd.DataFrame:
    """Scorecard rows of the period whose value is suppressed (too few people), with n."""
    return ex.query(
        "SELECT kpi_id, segment_id, n, target FROM {marts/kpi_scorecard} "
        "WHERE period_grain = ? AND period_start = ? AND status = 'insufficient_data' "
        "ORDER BY kpi_id, segment_id", [grain, start])


def freshness(ex: Exports) -> pd.DataFrame:
    """Per source: configured, last pull mode and time, raw records, last load."""
    return ex.query("SELECT source, is_configured, last_pull_mode, last_pull_at, raw_records, "
                    "last_loaded_at FROM {marts/dim_source} ORDER BY source")


def trends(ex: Exports, grain: str, segments: list[str]) -> pd.DataFrame:
    """Every KPI of the segments over all periods of the grain, with target and status."""
    df = ex.query(
        "SELECT v.kpi_id, v.segment_id, v.period_start, v.value, v.ci_low, v.ci_high, v.n, "
        "v.reliability, s.target, s.status "
        "FROM {marts/kpi_values} v LEFT JOIN {marts/kpi_scorecard} s "
        "USING (period_grain, period_start, kpi_id, segment_id) "
        "WHERE v.period_grain = ? AND list_contains(?, v.segment_id) "
        "ORDER BY v.kpi_id, v.segment_id, v.period_start", [grain, segments])
    return df


def pareto(ex: Exports, grain: str, start: date, dimension: str, segments: list[str],
           parents: dict[str, str]) -> pd.DataFrame:
    """Tickets of the period by `dimension` (Pareto rules of DESIGN section 8): item, tickets,
    share, cumulative_share, rank, is_vital_few. The mart `rca_pareto` when nothing narrows
    it; otherwise the same rules over `fct_tickets`, keeping tickets whose requester was in
    one of `segments` in the ticket's month and whose `parents` (a drill such as
    {'fishbone_group': 'Machine'}) match."""
    if segments == ["all"] and not parents:
        return ex.query(
            "SELECT item, tickets, share, cumulative_share, rank, is_vital_few "
            "FROM {marts/rca_pareto} WHERE period_grain = ? AND period_start = ? "
            "AND dimension = ? ORDER BY rank", [grain, start, dimension])
    return ticket_pareto(ex, grain, start, dimension, segments, parents)


def ticket_pareto(ex: Exports, grain: str, start: date, dimension: str, segments: list[str],
                  parents: dict[str, str]) -> pd.DataFrame:
    """`pareto` computed from `fct_tickets` (the mart's rules; tests hold it to the mart)."""
    where, params = _ticket_filter(start, period_end(start, grain), segments, parents)
    return ex.query(
        f"""WITH items AS (
                SELECT {_mapped(dimension)} AS item, count(*) AS tickets
                FROM {{marts/fct_tickets}} t WHERE {where} GROUP BY 1),
            ordered AS (
                SELECT *, sum(tickets) OVER () AS total,
                       sum(tickets) OVER (ORDER BY tickets DESC, item
                                          ROWS UNBOUNDED PRECEDING) AS cumulative
                FROM items)
            SELECT item, tickets, tickets / total AS share, cumulative / total AS
                   cumulative_share,
                   row_number() OVER (ORDER BY tickets DESC, item)::INTEGER AS rank,
                   5 * (cumulative - tickets) < 4 * total AS is_vital_few
            FROM ordered ORDER BY rank""", params)


def _mapped(level: str) -> str:
    """A ticket's item at a level, unmapped tickets named as the mart names them."""
    return f"coalesce(t.{level}, '{_UNMAPPED[level]}')"


def _ticket_filter(start: date, end: date, segments: list[str],
                   parents: dict[str, str]) -> tuple[str, list[object]]:
    where = ["t.created_month >= ?", "t.created_month < ?"]
    params: list[object] = [start, end]
    if segments != ["all"]:
        where.append("EXISTS (SELECT 1 FROM {marts/fct_segment_membership} m "
                     "WHERE m.person_id = t.person_id AND m.month_start = t.created_month "
                     "AND list_contains(?, m.segment_id))")
        params.append(segments)
    for level, item in parents.items():
        where.append(f"{_mapped(level)} = ?")
        params.append(item)
    return " AND ".join(where), params


def ticket_trend(ex: Exports, until: date, segments: list[str],
                 parents: dict[str, str]) -> pd.DataFrame:
    """Tickets per month up to `until` (exclusive) for the segments and drill: month_start,
    tickets; shows since when a cause grows."""
    where, params = _ticket_filter(date(1, 1, 1), until, segments, parents)
    return ex.query(f"SELECT t.created_month AS month_start, count(*) AS tickets "
                    f"FROM {{marts/fct_tickets}} t WHERE {where} GROUP BY 1 ORDER BY 1",
                    params)


def recurring(ex: Exports, start: date, end: date) -> pd.DataFrame:
    """Issue types of the period's months: recurrence, reopen rate, scope, help-centre cover."""
    return ex.query(
        "SELECT month_start, issue_type, category, tickets, months_in_vital_few_last_3, "
        "is_recurring, reopen_rate, top_segment_id, segment_lift, scope, kb_articles, "
        "kb_helpfulness FROM {marts/rca_recurring_issues} "
        "WHERE month_start >= ? AND month_start < ? "
        "ORDER BY month_start DESC, is_recurring DESC, tickets DESC, issue_type", [start, end])


def issue_types_under(ex: Exports, parents: dict[str, str]) -> list[str]:
    """The issue types a drill (fishbone group, category) covers, over all tickets."""
    where = " AND ".join(f"{_mapped(level)} = ?" for level in parents) or "true"
    df = ex.query(f"SELECT DISTINCT {_mapped('issue_type')} AS item "
                  f"FROM {{marts/fct_tickets}} t WHERE {where} ORDER BY 1", list(parents.values()))
    return df["item"].tolist()


def driver_hints(ex: Exports, grain: str, start: date) -> pd.DataFrame:
    """The period's measured associations behind KPIs (e.g. CSAT against reply time)."""
    return ex.query(
        "SELECT kpi_id, driver, statistic, value, n, strength, description "
        "FROM {marts/rca_driver_hints} WHERE period_grain = ? AND period_start = ? "
        "ORDER BY effect_size DESC NULLS LAST", [grain, start])


def corrective_actions(ex: Exports, until: date) -> pd.DataFrame:
    """The actions of the register (every column of the seed) started before `until`, with
    each one's KPI before it started (the last month before its start month) and latest (the
    last month from its start month, before `until`), each with its interval and n, and the
    latest month's target and status. Monthly values: the dashboard follows actions month by
    month."""
    return ex.query(
        """WITH v AS (
               SELECT v.kpi_id, v.segment_id, v.period_start, v.value, v.ci_low, v.ci_high,
                      v.n, s.target, s.status
               FROM {marts/kpi_values} v LEFT JOIN {marts/kpi_scorecard} s
               USING (period_grain, period_start, kpi_id, segment_id)
               WHERE v.period_grain = 'month' AND v.value IS NOT NULL AND v.period_start < ?)
           SELECT a.* REPLACE (a.start_date::DATE AS start_date, a.due_date::DATE AS due_date),
                  b.period_start AS before_month, b.value AS before_value,
                  b.ci_low AS before_ci_low, b.ci_high AS before_ci_high, b.n AS before_n,
                  l.period_start AS latest_month, l.value AS latest_value,
                  l.ci_low AS latest_ci_low, l.ci_high AS latest_ci_high, l.n AS latest_n,
                  l.target, l.status AS latest_status
           FROM {reference/corrective_actions} a
           LEFT JOIN LATERAL (
               SELECT * FROM v WHERE v.kpi_id = a.kpi_id AND v.segment_id = a.segment_id
                 AND v.period_start < date_trunc('month', a.start_date::DATE)
               ORDER BY v.period_start DESC LIMIT 1) b ON true
           LEFT JOIN LATERAL (
               SELECT * FROM v WHERE v.kpi_id = a.kpi_id AND v.segment_id = a.segment_id
                 AND v.period_start >= date_trunc('month', a.start_date::DATE)
               ORDER BY v.period_start DESC LIMIT 1) l ON true
           WHERE a.start_date::DATE < ?
           ORDER BY a.action_id""", [until, until])


def action_progress(actions: pd.DataFrame, directions: pd.Series, today: date) -> pd.DataFrame:
    """Adds to `corrective_actions` rows, with `directions` (kpi_id -> direction) and the day
    the follow-up is read on: `is_closed` (done or dropped by `today`, per `closed_date` when
    the register has it), `days_overdue` (due before `today`, not closed), `change` (latest -
    before, positive = better), `gap_closed_pct` (the share of the gap between before and
    target closed, when before missed the target), and `verdict` with `verdict_reason`: the
    quarterly review's rule (reports/actions.py), on the monthly values."""
    from reports.actions import verdict

    out = actions.copy()
    closed_on = out["closed_date"] if "closed_date" in out else pd.Series(pd.NaT, out.index)
    closed_on = pd.to_datetime(closed_on)
    out["is_closed"] = out["status"].isin(["done", "dropped"]) & (
        closed_on.isna() | (closed_on <= pd.Timestamp(today)))
    due = pd.to_datetime(out["due_date"])
    out["days_overdue"] = ((pd.Timestamp(today) - due).dt.days
                           .where(~out["is_closed"] & (due < pd.Timestamp(today))))
    # as numbers whatever the frame's dtypes (an empty one's are strings)
    sign = out["kpi_id"].map(directions).map({"lower_is_better": -1.0}).fillna(1.0).astype(float)
    before, latest = out["before_value"].astype(float), out["latest_value"].astype(float)
    out["change"] = (latest - before) * sign
    gap = (out["target"].astype(float) - before) * sign
    out["gap_closed_pct"] = (100 * out["change"] / gap).where(gap > 0)
    results = []
    for row in out.itertuples(index=False):
        if pd.isna(row.before_value):
            results.append(("not yet", "no value before it started"))
        elif pd.isna(row.latest_value):
            results.append(("not yet", "no value since it started"))
        else:
            before = SimpleNamespace(value=row.before_value, ci_low=row.before_ci_low,
                                     ci_high=row.before_ci_high)
            latest = SimpleNamespace(value=row.latest_value, ci_low=row.latest_ci_low,
                                     ci_high=row.latest_ci_high)
            results.append(verdict(before, latest, directions.get(row.kpi_id,
                                                                  "higher_is_better"),
                                   row.latest_status if isinstance(row.latest_status, str)
                                   else None,
                                   bool(row.is_closed or pd.notna(row.days_overdue))))
    out["verdict"] = [r[0] for r in results]
    out["verdict_reason"] = [r[1] for r in results]
    return out


def experiments(ex: Exports) -> pd.DataFrame:
    """The experiment registry when exported, else the experiment ids of the results."""
    if ex.has("reference/experiments"):
        return ex.query("SELECT * FROM {reference/experiments} ORDER BY start_date DESC, "
                        "experiment_id")
    return ex.query("SELECT DISTINCT experiment_id, experiment_id AS name "
                    "FROM {marts/experiment_results} ORDER BY 1")


def experiment_results(ex: Exports, experiment_id: str) -> pd.DataFrame:
    """One experiment's results: variant x metric, primary metric first, with the interval
    relative to the control value (`rel_ci_low`, `rel_ci_high`) when the mart lacks it."""
    df = ex.query("SELECT * FROM {marts/experiment_results} WHERE experiment_id = ?",
                  [experiment_id])
    for side in ("low", "high"):
        if f"rel_ci_{side}" not in df:
            df[f"rel_ci_{side}"] = df[f"ci_{side}"] / df["control_value"]
    order = ["variant_order"] if "variant_order" in df else ["variant"]
    return df.sort_values([*order, "is_primary", "metric_id"],
                          ascending=[True] * len(order) + [False, True]).reset_index(drop=True)


def experiment_exposures(ex: Exports, experiment_id: str) -> pd.DataFrame:
    """Units first exposed per day and variant (multi-variant units apart), cumulated."""
    df = ex.query(
        "SELECT CAST(first_exposed_at AS DATE) AS day, "
        "CASE WHEN is_multi_variant THEN 'multi_variant' ELSE variant END AS variant, "
        "count(*) AS units FROM {marts/fct_experiment_exposures} WHERE experiment_id = ? "
        "GROUP BY ALL ORDER BY day, variant", [experiment_id])
    df["cumulative_units"] = df.groupby("variant")["units"].cumsum()
    return df


def validation_runs(ex: Exports, limit: int = 20) -> pd.DataFrame:
    """The latest validation runs, newest first."""
    return ex.query("SELECT * FROM {quality/validation_runs} ORDER BY started_at DESC LIMIT ?",
                    [limit])


def latest_entity_checks(ex: Exports) -> pd.DataFrame:
    """Each source entity's latest validation: rows checked and quarantined, passed, and the
    number of blocking failures and warnings (their texts stay in the warehouse)."""
    return ex.query(
        "SELECT * FROM {quality/validation_entities} QUALIFY row_number() OVER "
        "(PARTITION BY source, entity ORDER BY validated_at DESC) = 1 ORDER BY source, entity")


def quarantine(ex: Exports) -> pd.DataFrame:
    """Rows in quarantine per source, entity and rule (counts only)."""
    return ex.query(
        "SELECT source, entity, rule, sum(quarantined_rows)::BIGINT AS quarantined_rows, "
        "min(first_quarantined_at) AS first_quarantined_at, "
        "max(last_quarantined_at) AS last_quarantined_at "
        "FROM {quality/quarantine_summary} GROUP BY ALL ORDER BY quarantined_rows DESC")
