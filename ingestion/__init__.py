"""Source connectors, landing store and raw-table builder (no Dagster imports)."""
