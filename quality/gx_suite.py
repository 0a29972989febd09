"""Great Expectations 1.x glue: suites built in code, run on pandas DataFrames.

The rules of an entity are declared as GX expectations (`quality.spec.Rule`); validation
evaluates them in SQL over the whole batch (`quality.sql_rules`) and runs this GX suite on a
bounded sample of it, where `disagreements` compares the two rule by rule.

GX is imported lazily (the import takes seconds; `warm_up` starts it in the background). One
ephemeral context with a pandas datasource and a whole-DataFrame batch definition is reused for
every run.
"""

from __future__ import annotations

import os
import threading
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
    """Result of one rule on one batch (from GX or from the SQL rules)."""

    rule: Rule
    success: bool
    element_count: int = 0
    missing_count: int = 0
    unexpected_count: int = 0
    failing_rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


_CONTEXT_LOCK = threading.Lock()


def _batch_definition() -> Any:
    """The shared GX whole-DataFrame batch definition (ephemeral, in-memory context); safe to
    call from several threads (see `warm_up`)."""
    with _CONTEXT_LOCK:
        return _new_batch_definition()


@cache
def warm_up() -> threading.Thread:
    """Import GX and start its context in a background thread (a few seconds, mostly imports),
    once per process, so that it overlaps the SQL work that comes before the first suite runs;
    DuckDB releases the GIL while it works."""
    thread = threading.Thread(target=_batch_definition, name="gx-warm-up", daemon=True)
    thread.start()
    return thread


@cache
def _new_batch_definition() -> Any:
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
    """Validate a DataFrame; return one outcome per rule with the failing rows' values."""
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


def _keys(out: RuleOutcome) -> list[str | None]:
    return sorted((None if r.get(KEY_COLUMN) is None else str(r[KEY_COLUMN])
                   for r in out.failing_rows), key=lambda k: (k is None, k or ""))


def disagreements(spec: EntitySpec, as_of: datetime, df: pd.DataFrame,
                  sql: dict[str, RuleOutcome]) -> list[str]:
    """Run the entity's GX suite on `df` and compare it with the SQL outcomes of the same rows
    (`sql`, by rule name): counts and, for row rules, the failing keys. One message per
    difference; empty when they agree."""
    out: list[str] = []
    for gx_out in run_suite(spec, build_suite(spec, as_of), df):
        name = gx_out.rule.name
        mine = sql[name]
        if gx_out.error or mine.error:
            out.append(f"{name}: GX error {gx_out.error!r}, SQL error {mine.error!r}")
            continue
        counts = (gx_out.unexpected_count, gx_out.missing_count)
        if counts != (mine.unexpected_count, mine.missing_count):
            out.append(f"{name}: GX counts {counts[0]} unexpected, {counts[1]} missing; SQL "
                       f"{mine.unexpected_count} unexpected, {mine.missing_count} missing")
        elif gx_out.rule.row_rule and _keys(gx_out) != _keys(mine):
            out.append(f"{name}: failing keys differ (GX {_keys(gx_out)[:3]}, "
                       f"SQL {_keys(mine)[:3]})")
    return out
