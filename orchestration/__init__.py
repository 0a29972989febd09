"""Dagster orchestration of the SayPro Insights pipeline (thin: the work lives in the packages)."""
