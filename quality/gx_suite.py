"""Great Expectations 1.x glue: suites built in code, run on pandas DataFrames.

GX is imported lazily (the import takes seconds). One ephemeral context with a pandas
datasource and a whole-DataFrame batch definition is reused for every chunk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from quality.spec import AS_OF, EntitySpec, Rule

if TYPE_CHECKING:
    import pandas as pd

KEY_COLUMN = "record_key"


@dataclass
class RuleOutcome:
    """Result of one rule on one chunk."""

    rule: Rule
    success: bool
    element_count: int = 0
    missing_count: int = 0
    unexpected_count: int = 0
    failing_rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@cache
def _batch_definition() -> Any:
    """The shared GX whole-DataFrame batch definition (ephemeral, in-memory context)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("saypro_quality").add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("whole")


def build_suite(spec: EntitySpec, as_of: datetime) -> Any:
    """The GX `ExpectationSuite` of an entity for a run's `as_of`."""
    _batch_definition()  # suites need an active context
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=spec.key)
    for rule in spec.rules:
        kwargs = {k: (as_of if v == AS_OF else v) for k, v in rule.kwargs.items()}
        cls = getattr(gxe, rule.expectation)
        suite.add_expectation(cls(**kwargs, meta={
            "rule": rule.name, "severity": rule.severity, "row_rule": rule.row_rule}))
    return suite


def run_suite(spec: EntitySpec, suite: Any, df: pd.DataFrame) -> list[RuleOutcome]:
    """Validate one chunk; return one outcome per rule with the failing rows' values."""
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
    result = batch.validate(suite, result_format={
        "result_format": "COMPLETE",
        "unexpected_index_column_names": [KEY_COLUMN],
        "return_unexpected_index_query": False,
    })
    by_rule = {r.expectation_config.meta["rule"]: r for r in result.results}
    outcomes: list[RuleOutcome] = []
    for rule in spec.rules:
        res = by_rule[rule.name]
        info = res.exception_info or {}
        if info.get("raised_exception"):
            outcomes.append(RuleOutcome(rule, False, len(df), error=str(
                info.get("exception_message") or "expectation raised an exception")))
            continue
        r = res.result or {}
        outcomes.append(RuleOutcome(
            rule, bool(res.success),
            element_count=int(r.get("element_count", len(df)) or 0),
            missing_count=int(r.get("missing_count", 0) or 0),
            unexpected_count=int(r.get("unexpected_count", 0) or 0),
            failing_rows=list(r.get("unexpected_index_list") or []),
        ))
    return outcomes
