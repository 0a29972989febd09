"""Experiment statistics (DESIGN.md section 11): transforms.experiment_stats, which documents
the tests and estimates; this model reads its inputs on DuckDB (the Spark build calls the same
function, orchestration/spark_build.py)."""

from transforms.experiment_stats import comparisons


def model(dbt, session):
    dbt.config(materialized="table")
    experiments = dbt.ref("int_experiments_validated").df()
    exposures = dbt.ref("int_experiment_exposures").aggregate(
        "experiment_id, variant, is_multi_variant, count(*) as units",
        "experiment_id, variant, is_multi_variant").df()
    outcomes = dbt.ref("int_experiment_outcomes_measured").aggregate(
        "experiment_id, variant, metric_id, numerator, denominator, count(*) as units",
        "experiment_id, variant, metric_id, numerator, denominator").df()
    return comparisons(experiments, exposures, outcomes)
