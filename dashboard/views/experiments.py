"""Experiments (DESIGN section 11): each experiment's decision, effects with 95% intervals
against control, sample-ratio check and exposures over time."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, queries, ui

ctx = ui.context()
ex = ctx.exports
st.title("Experiments")
if not ex.has("marts/experiment_results"):
    st.info("No experiments yet: the exports hold no `marts/experiment_results.parquet`. "
            "Register an experiment in the dbt seed `experiments` and run the pipeline; its "
            "results show here after the next run.")
    st.stop()

registry = queries.experiments(ex)
if registry.empty:
    st.info("No experiments yet: `experiment_results` is empty.")
    st.stop()
st.caption("Whole experiments, from first exposure: the period, segment and programme filters "
           "do not apply.")
ids = registry["experiment_id"].tolist()
names = dict(zip(ids, registry["name"], strict=True))
ui.url_choice("experiment", ids, default=ids[0])
picked = st.selectbox("Experiment", ids, key="p_experiment", format_func=names.get)
ui.set_url_choice("experiment", picked)
info = registry[registry["experiment_id"] == picked].iloc[0]
results = queries.experiment_results(ex, picked)

facts = [f"{label}: {ui.md_escape(info[column])}" for column, label in
         (("status", "Status"), ("unit", "Unit"), ("start_date", "Start"),
          ("end_date", "End"), ("owner", "Owner"), ("primary_metric", "Primary metric"))
         if column in info and pd.notna(info[column])]
if facts:
    st.markdown(" · ".join(facts))
if "hypothesis" in info and pd.notna(info["hypothesis"]):
    st.markdown(f"*Hypothesis:* {ui.md_escape(info['hypothesis'])}")
if results.empty:
    st.info("No results for this experiment yet (no exposures).")
    st.stop()

primary = results[results["is_primary"] & results["rel_effect"].notna()]
if not results["is_primary"].any():  # the primary metric's source is not configured
    st.warning(ui.md_escape(results["decision_reason"].iloc[0]))
for row in primary.itertuples(index=False):
    final = "final" if row.is_final else "interim"
    st.markdown(f"**{ui.md_escape(row.variant)}** against control: "
                f"**{ui.md_escape(row.decision)}** ({final}) · "
                f"{ui.md_escape(row.decision_reason)}")
if results["srm_flag"].any():
    st.error("Sample-ratio mismatch (p < 0.001): the units per variant differ from the planned "
             "allocation, so the results are not trustworthy.")

compared = results[results["rel_effect"].notna()]
if len(compared):
    st.altair_chart(charts.effects(compared), width="stretch")
columns = ["variant", "metric_id", "is_primary", "units", "value", "control_value",
           "abs_effect", "ci_low", "ci_high", "rel_effect", "p_value", "p_value_adjusted",
           "achieved_mde", "decision"]
st.dataframe(results[[c for c in columns if c in results]], hide_index=True, column_config={
    "rel_effect": st.column_config.NumberColumn("relative effect", format="percent"),
    "achieved_mde": st.column_config.NumberColumn("achieved MDE", format="percent"),
    "p_value": st.column_config.NumberColumn(format="%.4f"),
    "p_value_adjusted": st.column_config.NumberColumn(format="%.4f")})
ui.download(results, f"experiment_{picked}_results", key="dl_experiment_results")

if ex.has("marts/fct_experiment_exposures"):
    st.subheader("Exposures")
    exposures = queries.experiment_exposures(ex, picked)
    if exposures.empty:
        st.info("No exposures recorded.")
    else:
        st.altair_chart(charts.exposures(exposures), width="stretch")
        ui.download(exposures, f"experiment_{picked}_exposures", key="dl_exposures")
