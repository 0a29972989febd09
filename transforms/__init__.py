"""Transformations in plain Python shared by both dbt engines (DuckDB Python models call them;
the Spark build runs them between dbt steps, orchestration/spark_build.py)."""
