"""Fixtures of the core dbt tests (staging, intermediate, core marts).

`core_build` is the session's sample warehouse (tests/conftest.py: generator → drop-folder
landing → raw tables → a full `dbt build` with a pinned cut-off). The generated JSONL stays
available for independent recomputation of KPIs with pandas.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import SampleBuild

INCREMENTAL_MODELS = ("fct_web_visits", "agg_web_traffic_monthly", "agg_web_pages_monthly")


@pytest.fixture(scope="session")
def core_build(sample_warehouse: SampleBuild) -> SampleBuild:
    return sample_warehouse


@pytest.fixture(scope="session")
def month_rebuild(core_build: SampleBuild, tmp_path_factory: pytest.TempPathFactory
                  ) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """The incremental models after the full build, and after rebuilding 2025-03 alone
    (on a copy of the warehouse, so the other tests keep the from-scratch build)."""
    copy = core_build.with_warehouse(tmp_path_factory.mktemp("month_rebuild"))
    copy.dbt("run", "--select", *INCREMENTAL_MODELS,
             vars_={"period_start": "2025-03-01", "period_end": "2025-04-01"})
    out = {}
    for model in INCREMENTAL_MODELS:
        schema = "intermediate" if model.startswith("int_") else "marts"
        sql = f"select * from {schema}.{model} order by all"
        out[model] = (core_build.query(sql), copy.query(sql))
    return out
