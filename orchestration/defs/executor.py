import dagster as dg


@dg.definitions
def executor() -> dg.Definitions:
    """Every run executes its steps one after another in the run's own process: the jobs, and
    the asset selections the UI or `dagster asset materialize` launch. DuckDB lets one process
    write the warehouse at a time, and Dagster's default executor starts a process per step,
    so two of a run's steps could each hold it (a dbt step beside validation failed on the
    file's lock); in one process the steps also share the imports and the kept dbt parse."""
    return dg.Definitions(executor=dg.in_process_executor)
