"""The entity rules as DuckDB SQL over the flattened batch (`_q_batch`).

Each `Rule` declares a Great Expectations expectation (`Rule.expectation`, `Rule.kwargs`);
this module translates the expectation types the suites use into two SQL conditions per row,
with GX's semantics:

- *missing*: the row is left out of the expectation (GX's `missing_count`): a NULL value for
  the single-column expectations that ignore NULLs, either value NULL for the column pair,
  every value NULL for compound uniqueness;
- *unexpected*: the row fails the expectation (GX's `unexpected_index_list`).

`tests/quality/test_sql_rules.py` runs the GX suite and these conditions on the same batch and
compares the failing keys and counts of every rule, so the two cannot drift apart. An
expectation type without a translation raises `ValueError` naming it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ingestion.raw import sql_literal
from quality.spec import AS_OF, Rule


def _col(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any, as_of: datetime) -> str:
    """A rule kwarg value as SQL (the `AS_OF` placeholder becomes the run's `as_of`)."""
    if value == AS_OF:
        value = as_of
    if isinstance(value, datetime):
        return f"{sql_literal(value.isoformat())}::TIMESTAMPTZ"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return sql_literal(value)
    raise ValueError(f"rule value {value!r} has no SQL form")


def rule_columns(rule: Rule) -> list[str]:
    """The batch columns an expectation reads (GX reports them for each failing row)."""
    kw = rule.kwargs
    if "column_list" in kw:
        return list(kw["column_list"])
    if "column_A" in kw:
        return [kw["column_A"], kw["column_B"]]
    return [kw["column"]]


def rule_sql(rule: Rule, as_of: datetime) -> tuple[str, str]:
    """(missing, unexpected) SQL conditions of one rule over a row of `_q_batch`."""
    kw = rule.kwargs
    kind = rule.expectation
    cols = [_col(c) for c in rule_columns(rule)]
    c = cols[0]
    if kind == "ExpectColumnValuesToNotBeNull":
        return "false", f"{c} IS NULL"
    if kind == "ExpectColumnValuesToBeNull":
        return "false", f"{c} IS NOT NULL"
    if kind == "ExpectColumnValuesToBeInSet":
        values = ", ".join(_literal(v, as_of) for v in kw["value_set"])
        return f"{c} IS NULL", f"{c} IS NOT NULL AND {c} NOT IN ({values})"
    if kind == "ExpectColumnValuesToBeBetween":
        out = []
        if kw.get("min_value") is not None:
            out.append(f"{c} < {_literal(kw['min_value'], as_of)}")
        if kw.get("max_value") is not None:
            out.append(f"{c} > {_literal(kw['max_value'], as_of)}")
        return f"{c} IS NULL", f"{c} IS NOT NULL AND ({' OR '.join(out) or 'false'})"
    if kind == "ExpectColumnValuesToMatchRegex":
        return (f"{c} IS NULL",
                f"{c} IS NOT NULL AND NOT regexp_matches({c}, {sql_literal(kw['regex'])})")
    if kind == "ExpectColumnPairValuesAToBeGreaterThanB":
        if kw.get("ignore_row_if") != "either_value_is_missing":
            raise ValueError(f"rule {rule.name}: only ignore_row_if=either_value_is_missing")
        op = "<" if kw.get("or_equal") else "<="
        a, b = cols
        return f"({a} IS NULL OR {b} IS NULL)", f"{a} {op} {b}"
    if kind == "ExpectColumnValuesToBeUnique":
        return (f"{c} IS NULL",
                f"{c} IS NOT NULL AND count(*) OVER (PARTITION BY {c}) > 1")
    if kind == "ExpectCompoundColumnsToBeUnique":
        all_null = " AND ".join(f"{x} IS NULL" for x in cols)
        return (f"({all_null})", f"NOT ({all_null}) AND "
                f"count(*) OVER (PARTITION BY {', '.join(cols)}) > 1")
    raise ValueError(f"rule {rule.name}: expectation {kind} has no SQL translation "
                     "in quality/sql_rules.py")
