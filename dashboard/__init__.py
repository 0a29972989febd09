"""SayPro Insights dashboard: a Streamlit app over the Parquet exports (`saypro dashboard`).

It reads `$SAYPRO_DATA_DIR/exports/` only, through an in-memory DuckDB connection, so it never
opens the warehouse and never blocks a running pipeline.
"""
