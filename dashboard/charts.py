"""Altair charts (Vega-Lite, rendered in the browser). Each takes the DataFrame the page also
offers as CSV, so what is downloaded is what is drawn."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

from dashboard.units import fmt_interval, fmt_value, unit_of

SUPPRESSED_COLOUR = "#9e9e9e"
VITAL_COLOURS = alt.Scale(domain=["vital few", "useful many"], range=["#c62828", "#90a4ae"])


def trend_frame(df: pd.DataFrame, catalog: pd.DataFrame, selected: date | None) -> pd.DataFrame:
    """KPI rows (kpi_id, segment, period_start, value, ci_low, ci_high, n, reliability, target)
    ready to plot: numbers in display units, tooltip labels, the panel title `kpi` (name and
    unit), suppressed values (no value) on their KPI's floor with their n, and the selected
    period marked."""
    order = {kpi: i for i, kpi in enumerate(catalog["kpi_id"])}
    out = df.merge(catalog[["kpi_id", "name", "unit"]], on="kpi_id", how="left")
    out = out.sort_values(["kpi_id", "segment_id", "period_start"],
                          key=lambda c: c.map(order) if c.name == "kpi_id" else c,
                          ignore_index=True)
    units = [unit_of(u) for u in out["unit"]]
    scale = pd.Series([u.scale for u in units], index=out.index, dtype=float)
    for column in ("value", "ci_low", "ci_high", "target"):
        out[f"{column}_shown"] = out[column] * scale
    out["kpi"] = [f"{name} ({u.axis})" for name, u in zip(out["name"], units, strict=True)]
    out["value_label"] = [fmt_value(v, u) for v, u in zip(out["value"], out["unit"], strict=True)]
    out["interval_label"] = [fmt_interval(lo, hi, u) for lo, hi, u
                             in zip(out["ci_low"], out["ci_high"], out["unit"], strict=True)]
    out["target_label"] = [fmt_value(t, u) for t, u in zip(out["target"], out["unit"], strict=True)]
    out["suppressed"] = out["value"].isna()
    lowest = out[["value_shown", "ci_low_shown", "target_shown"]].min(axis="columns")
    out["floor"] = lowest.groupby(out["kpi_id"]).transform("min").fillna(0.0)
    out["n_label"] = "n=" + out["n"].astype("Int64").astype(str)
    out["is_selected"] = out["period_start"] == (pd.Timestamp(selected) if selected else None)
    return out


def _trend_layers(y_title: str | None) -> list[alt.Chart]:
    """Layers of a KPI trend over one data set: interval band, value line, target (dashed,
    per segment), suppressed values greyed at the floor with their n, the selected period."""
    x = alt.X("period_start:T", title=None, axis=alt.Axis(format="%b %y"))
    colour = alt.Color("segment:N", title="Segment", scale=alt.Scale(scheme="tableau10"),
                       legend=alt.Legend(orient="bottom", labelLimit=320))
    tooltip = [alt.Tooltip("segment:N", title="Segment"),
               alt.Tooltip("period_start:T", title="Period", format="%Y-%m"),
               alt.Tooltip("value_label:N", title="Value"),
               alt.Tooltip("interval_label:N", title="95% interval"),
               alt.Tooltip("n:Q", title="n", format=","),
               alt.Tooltip("reliability:N", title="Reliability"),
               alt.Tooltip("target_label:N", title="Target")]
    base = alt.Chart()
    shown = "!datum.suppressed"
    return [
        base.mark_area(opacity=0.15).encode(
            x=x, y=alt.Y("ci_low_shown:Q", title=y_title), y2="ci_high_shown:Q", color=colour,
        ).transform_filter(shown),
        base.mark_line(point=True).encode(
            x=x, y=alt.Y("value_shown:Q", title=y_title, scale=alt.Scale(zero=False)),
            color=colour, tooltip=tooltip).transform_filter(shown),
        base.mark_line(strokeDash=[5, 4], interpolate="step-after", strokeWidth=1.5).encode(
            x=x, y=alt.Y("target_shown:Q", title=y_title), color=colour, tooltip=tooltip),
        base.mark_point(shape="cross", color=SUPPRESSED_COLOUR, size=60).encode(
            x=x, y=alt.Y("floor:Q", title=y_title), tooltip=tooltip,
        ).transform_filter("datum.suppressed"),
        base.mark_text(color=SUPPRESSED_COLOUR, dy=-9, fontSize=9).encode(
            x=x, y=alt.Y("floor:Q", title=y_title), text="n_label:N",
        ).transform_filter("datum.suppressed"),
        base.mark_rule(color="#607d8b", strokeDash=[2, 2]).encode(x=x).transform_filter(
            "datum.is_selected"),
    ]


def kpi_trends(frame: pd.DataFrame, columns: int = 2) -> alt.FacetChart:
    """One panel per KPI (in the frame's order), each with its own y scale, segments in
    colour. One chart for all KPIs: building 20 Altair charts costs over a second."""
    order = list(dict.fromkeys(frame["kpi"]))
    return (alt.layer(*_trend_layers(None)).properties(width=400, height=170)
            .facet(data=frame, columns=columns,
                   facet=alt.Facet("kpi:N", title=None, sort=order,
                                   header=alt.Header(labelAnchor="start", labelFontSize=13,
                                                     labelFontWeight="bold")))
            .resolve_scale(y="independent"))


def kpi_trend(frame: pd.DataFrame, height: int = 240) -> alt.LayerChart:
    """One KPI's trend (the frame holds one KPI)."""
    title = unit_of(frame["unit"].iloc[0] if len(frame) else None).axis
    return alt.layer(*_trend_layers(title), data=frame).properties(height=height)


def pareto(df: pd.DataFrame, label: str) -> alt.LayerChart:
    """Tickets per item (bars, vital few in red) and the cumulative share (line) against the
    80% line."""
    data = df.assign(group=df["is_vital_few"].map({True: "vital few", False: "useful many"}),
                     cumulative_pct=df["cumulative_share"] * 100, share_pct=df["share"] * 100)
    x = alt.X("item:N", sort=data.sort_values("rank")["item"].tolist(), title=label.capitalize(),
              axis=alt.Axis(labelAngle=-35, labelLimit=160))
    tooltip = [alt.Tooltip("item:N", title=label.capitalize()),
               alt.Tooltip("tickets:Q", format=","),
               alt.Tooltip("share_pct:Q", title="Share %", format=".1f"),
               alt.Tooltip("cumulative_pct:Q", title="Cumulative %", format=".1f")]
    bars = alt.Chart(data).mark_bar().encode(
        x=x, y=alt.Y("tickets:Q", title="Tickets"),
        color=alt.Color("group:N", scale=VITAL_COLOURS, title=None,
                        legend=alt.Legend(orient="bottom")),
        tooltip=tooltip)
    cumulative_axis = alt.Y("cumulative_pct:Q", title="Cumulative share (%)",
                            scale=alt.Scale(domain=[0, 100]))
    line = alt.Chart(data).mark_line(point=True, color="#37474f").encode(
        x=x, y=cumulative_axis, tooltip=tooltip)
    rule = alt.Chart(pd.DataFrame({"cumulative_pct": [80.0]})).mark_rule(
        color="#37474f", strokeDash=[4, 4]).encode(y=cumulative_axis)
    return alt.layer(bars, line + rule).resolve_scale(y="independent").properties(height=320)


def tickets_per_month(df: pd.DataFrame) -> alt.Chart:
    """Tickets per month (bars)."""
    return alt.Chart(df).mark_bar(color="#546e7a").encode(
        x=alt.X("yearmonth(month_start):O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("tickets:Q", title="Tickets"),
        tooltip=[alt.Tooltip("month_start:T", title="Month", format="%Y-%m"),
                 alt.Tooltip("tickets:Q", format=",")]).properties(height=200)


def action_trend(frame: pd.DataFrame, start: date, due: date) -> alt.LayerChart:
    """A corrective action's KPI by month (a `trend_frame`) with the action's start and due
    dates as vertical rules."""
    marks = pd.DataFrame({"period_start": [pd.Timestamp(start), pd.Timestamp(due)],
                          "label": ["start", "due"]})
    rules = alt.Chart(marks).mark_rule(color="#607d8b", strokeDash=[2, 2]).encode(
        x="period_start:T", tooltip=[alt.Tooltip("label:N", title="Action"),
                                     alt.Tooltip("period_start:T", title="Date")])
    text = alt.Chart(marks).mark_text(align="left", dx=3, y=8, color="#607d8b").encode(
        x="period_start:T", text="label:N")
    return alt.layer(kpi_trend(frame, height=260), rules, text)


def effects(df: pd.DataFrame) -> alt.LayerChart:
    """Relative effect of each variant against control per metric, with its 95% interval."""
    data = df.assign(label=df["metric_id"] + " · " + df["variant"],
                     effect_pct=df["rel_effect"] * 100, low_pct=df["rel_ci_low"] * 100,
                     high_pct=df["rel_ci_high"] * 100,
                     significant=df["p_value_adjusted"].fillna(df["p_value"]) < 0.05)
    y = alt.Y("label:N", title=None, sort=None)
    tooltip = [alt.Tooltip("label:N", title="Metric · variant"),
               alt.Tooltip("effect_pct:Q", title="Relative effect %", format="+.1f"),
               alt.Tooltip("low_pct:Q", title="95% low %", format="+.1f"),
               alt.Tooltip("high_pct:Q", title="95% high %", format="+.1f"),
               alt.Tooltip("p_value:Q", title="p", format=".3f"),
               alt.Tooltip("decision:N", title="Decision")]
    bars = alt.Chart(data).mark_rule(strokeWidth=2, color="#78909c").encode(
        y=y, x=alt.X("low_pct:Q", title="Relative effect vs control (%)"), x2="high_pct:Q")
    points = alt.Chart(data).mark_point(filled=True, size=70).encode(
        y=y, x="effect_pct:Q", tooltip=tooltip,
        color=alt.Color("significant:N", title="p < 0.05",
                        scale=alt.Scale(domain=[True, False], range=["#c62828", "#546e7a"])))
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#37474f").encode(x="x:Q")
    return alt.layer(bars, points, zero).properties(height=max(120, 28 * len(data)))


def exposures(df: pd.DataFrame) -> alt.Chart:
    """Units exposed so far, per variant and day."""
    return alt.Chart(df).mark_line(interpolate="step-after").encode(
        x=alt.X("day:T", title=None), y=alt.Y("cumulative_units:Q", title="Units exposed"),
        color=alt.Color("variant:N", title="Variant"),
        tooltip=["variant:N", alt.Tooltip("day:T", format="%Y-%m-%d"),
                 alt.Tooltip("cumulative_units:Q", title="Units", format=",")],
    ).properties(height=240)


def counts_by(df: pd.DataFrame, category: str, value: str, title: str) -> alt.Chart:
    """A horizontal bar per category."""
    return alt.Chart(df).mark_bar(color="#546e7a").encode(
        y=alt.Y(f"{category}:N", title=None, sort="-x"),
        x=alt.X(f"{value}:Q", title=title),
        tooltip=[f"{category}:N", alt.Tooltip(f"{value}:Q", format=",")],
    ).properties(height=max(100, 26 * len(df)))
