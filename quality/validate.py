"""Validate new raw batches: rules in SQL, GX suite on a sample, quarantine, blocking checks.

Flow per entity (`validate_entity`): the raw rows whose `load_id` is not yet in
`quality.validated_loads` are flattened in DuckDB into a temp table and every rule of the
entity's spec (a GX expectation, see `quality.spec.Rule`) is evaluated over it in SQL
(`quality.sql_rules`). The GX suite itself runs on a bounded sample of the batch (every key
with a failing row rule plus keys picked by hash, `GX_SAMPLE_KEYS` each) and must agree with
the SQL outcome of the same rows, or the batch is blocked. Rows failing a row rule go to
`quality.quarantine` with the rule and a reason; blocking problems are returned as
`blocking_failures`. Loads are marked validated only when the batch has no blocking failure, so
a blocked batch is checked again on the next run (and heals once corrected records land).

Records that never reached the raw table are counted too: the lines and parts of landed files
that cannot be read (`raw._unreadable_records`) and the records without a key
(`raw._unkeyed_records`) of the same new loads go to `quality.quarantine` (rules
`record_readable` and `record_key_present`, no record key) and into the report. They warn and
never block: what could be read is checked as usual, and setting the rest aside loses nothing.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import statistics
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ingestion.connection import connect
from ingestion.raw import sql_literal
from ingestion.settings import DuckDBLimits
from ingestion.sources import ENTITIES
from quality import gx_suite, history
from quality.gx_suite import KEY_COLUMN, RuleOutcome, disagreements
from quality.results import EntityValidation
from quality.spec import DRIFT_COLUMNS, JSON_TYPE_NAMES, EntitySpec, Rule, flatten_sql
from quality.sql_rules import rule_columns, rule_sql
from quality.suites import SPECS, get_spec

if TYPE_CHECKING:
    import pandas as pd

EXAMPLES = 5
ALL_FAIL_MIN_ROWS = 5
"""A row rule failing on every row blocks the batch when it has at least this many rows."""
MAX_QUARANTINE_SHARE = 0.10
SHARE_MIN_ROWS = 20
"""More than this share of rows quarantined blocks the batch (batches of >= SHARE_MIN_ROWS)."""
GX_SAMPLE_KEYS = 1_000
"""The GX suite runs on the rows of this many keys picked by hash plus this many keys with a
failing row rule (see `_gx_sample`)."""
VOLUME_HISTORY = 10
VOLUME_MIN_HISTORY = 3
VOLUME_FACTOR = 3.0
"""A load with more than FACTOR x or less than 1/FACTOR x the median of the last
VOLUME_HISTORY validated loads of its entity raises a warning."""


@dataclass
class _Agg:
    """A rule's outcome over the batch, with its examples."""

    rule: Rule
    element_count: int = 0
    missing_count: int = 0
    unexpected_count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


# Failing values are quoted in quarantine reasons, the validation report and Dagster's event
# log, where personal data may not go (DESIGN.md section 5: plain only in raw): a field that
# is personal data whole is withheld, and e-mail addresses and phone numbers in any other text
# are masked with the patterns of the dbt macro mask_pii (macros/staging.sql).
PERSONAL_FIELDS = frozenset({"email", "phone", "name", "fullname", "firstname", "lastname",
                             "username"})
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(\+?27|0)[\s-]?\d{2}[\s-]?\d{3}[\s-]?\d{4}|\+\d[\d\s-]{7,}\d")


def _masked(text: str) -> str:
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def _display(value: Any) -> str:
    """Render a value for a reason: quoted strings (personal data masked), ISO timestamps,
    `null`."""
    if value is None:
        return "null"
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return "null"
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        try:
            if value != value:  # NaT
                return "null"
        except TypeError:
            pass
        return value.isoformat()
    if isinstance(value, str):
        return "'" + _masked(value) + "'"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_display(v) for v in value) + ")"
    return str(value)


def _reason(rule: Rule, row: Mapping[str, Any], as_of: datetime) -> tuple[str, dict[str, str]]:
    values = _Values({k: "[withheld]" if k in PERSONAL_FIELDS and v is not None
                      else _display(v) for k, v in row.items()})
    values["value"] = values[rule.check_column] if rule.check_column else "?"
    values["as_of"] = as_of.isoformat()
    return rule.reason.format_map(values), values


def _key(row: Mapping[str, Any]) -> str | None:
    k = row.get(KEY_COLUMN)
    return None if k is None or (isinstance(k, float) and math.isnan(k)) else str(k)


def _utc(as_of: datetime | date) -> datetime:
    if not isinstance(as_of, datetime):
        as_of = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    return as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)


def _examples_text(examples: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e['record_key']}: {e['reason']}" for e in examples[:EXAMPLES])


def _raw_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables "
                       "WHERE table_schema = 'raw'").fetchall()
    return {f"raw.{r[0]}" for r in rows}


def _batch_where(spec: EntitySpec, only_new_loads: bool) -> str:
    if not only_new_loads:
        return "true"
    return (f"NOT EXISTS (SELECT 1 FROM quality.validated_loads v WHERE v.source = "
            f"{sql_literal(spec.source)} AND v.entity = {sql_literal(spec.entity)} "
            f"AND v.load_id = r.load_id)")


def _flags(rule: Rule, as_of: datetime) -> str:
    """The `_m` (missing) and `_u` (unexpected) flags of a rule as SQL select items."""
    missing, unexpected = rule_sql(rule, as_of)
    return f"coalesce({missing}, false) AS _m, coalesce({unexpected}, false) AS _u"


def _loads_where(load_counts: Mapping[str, int]) -> str:
    """The rows of these loads, named: DuckDB then reads the JSON of their rows only (the
    anti-join of `_batch_where` reads the JSON of the whole history before it filters). A row
    without a load id is new to `_batch_where`, so it is here too."""
    named = [sql_literal(load_id) for load_id in load_counts if load_id is not None]
    where = f"r.load_id IN ({', '.join(named)})" if named else "false"
    return f"({where} OR r.load_id IS NULL)" if None in load_counts else where


def _rule_outcome(con: duckdb.DuckDBPyConnection, rule: Rule, as_of: datetime, table: str,
                  counts: tuple[int, int, int] | None = None) -> RuleOutcome:
    """One rule evaluated in SQL over `table`: GX's counts (`counts` when already known, see
    `_rule_outcomes`) and the failing rows' values (all of them for a row rule, the first
    EXAMPLES by key otherwise)."""
    cols = ", ".join(f'"{c}"' for c in dict.fromkeys(rule_columns(rule)))
    read = ", ".join(f'"{c}"' for c in dict.fromkeys([KEY_COLUMN, *rule_columns(rule)]))
    try:
        flagged = f"SELECT {read}, {_flags(rule, as_of)} FROM {table}"
        if counts is None:
            n, n_missing, n_bad = con.execute(
                f"SELECT count(*), count_if(_m), count_if(_u) FROM ({flagged})").fetchone()
        else:
            n, n_missing, n_bad = counts
        rows: list[dict[str, Any]] = []
        if n_bad:
            limit = "" if rule.row_rule else f" LIMIT {EXAMPLES}"
            cur = con.execute(f"SELECT {KEY_COLUMN}, {cols} FROM ({flagged}) WHERE _u "
                              f"ORDER BY {KEY_COLUMN}, {cols}{limit}")
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    except duckdb.Error as exc:
        return RuleOutcome(rule, False, error=f"{type(exc).__name__}: {exc}")
    return RuleOutcome(rule, not n_bad, element_count=n, missing_count=n_missing,
                       unexpected_count=n_bad, failing_rows=rows)


def _rule_outcomes(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], as_of: datetime,
                   table: str) -> dict[str, RuleOutcome]:
    """Every rule over `table`, by name: the counts of all rules in one pass over the table,
    then the failing rows of the rules that fail. When that pass cannot run (a rule reads a
    column the batch lacks), each rule is evaluated alone so the error names its rule."""
    # a window in a rule (uniqueness) is evaluated before the aggregate: in a subquery
    flags = ", ".join(f"coalesce({m}, false) AS _m{i}, coalesce({u}, false) AS _u{i}"
                      for i, (m, u) in enumerate(rule_sql(r, as_of) for r in rules))
    try:
        counted = ", ".join(f"count_if(_m{i}), count_if(_u{i})" for i in range(len(rules)))
        row = con.execute(f"SELECT count(*), {counted} FROM (SELECT {flags} FROM {table})"
                          ).fetchone()
    except duckdb.Error:
        return {r.name: _rule_outcome(con, r, as_of, table) for r in rules}
    return {r.name: _rule_outcome(con, r, as_of, table, (row[0], row[1 + 2 * i], row[2 + 2 * i]))
            for i, r in enumerate(rules)}


def _run_rules(con: duckdb.DuckDBPyConnection, spec: EntitySpec,
               as_of: datetime) -> dict[str, _Agg]:
    """Evaluate every rule of the spec in SQL over `_q_batch`; failing rows into `_q_fail`."""
    aggs = {r.name: _Agg(r) for r in spec.rules}
    failed: list[tuple[str | None, str, str]] = []
    for name, outcome in _rule_outcomes(con, spec.rules, as_of, "_q_batch").items():
        _accumulate(aggs[name], outcome, as_of, failed)
    if failed:
        con.execute("INSERT INTO _q_fail SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
                    "unnest(?::VARCHAR[])", [list(col) for col in zip(*failed, strict=True)])
    return aggs


def _accumulate(agg: _Agg, out: RuleOutcome, as_of: datetime,
                failed: list[tuple[str | None, str, str]]) -> None:
    agg.element_count += out.element_count
    agg.missing_count += out.missing_count
    agg.unexpected_count += out.unexpected_count
    if out.error:
        agg.errors.append(out.error)
    rule = out.rule
    for i, row in enumerate(out.failing_rows):
        if not rule.row_rule and len(agg.examples) >= EXAMPLES:
            break
        if rule.row_rule or i < EXAMPLES:
            reason, values = _reason(rule, row, as_of)
            key = _key(row)
            if rule.row_rule:
                failed.append((key, rule.name, reason))
            if len(agg.examples) < EXAMPLES:
                shown = {k: v for k, v in values.items()
                         if k not in ("value", "as_of") and k in row}
                agg.examples.append({"record_key": key, "values": shown, "reason": reason})


def _expectation(agg: _Agg, action: str) -> dict[str, Any]:
    rule = agg.rule
    denominator = max(agg.element_count - agg.missing_count, 0)
    percent = 100.0 * agg.unexpected_count / denominator if denominator else 0.0
    return {
        "name": rule.name,
        "expectation": rule.expectation,
        "column": rule.column,
        "severity": rule.severity,
        "row_rule": rule.row_rule,
        "success": agg.unexpected_count == 0 and not agg.errors,
        "unexpected_count": agg.unexpected_count,
        "unexpected_percent": round(percent, 4),
        "examples": agg.examples,
        "action": action,
    }


def _judge(res: EntityValidation, aggs: dict[str, _Agg]) -> None:
    """Turn rule aggregates into expectation results, blocking failures and warnings."""
    n = res.rows_checked
    table = f"raw.{res.key}"
    for agg in aggs.values():
        rule = agg.rule
        bad = agg.unexpected_count
        action = "ok"
        if agg.errors:
            action = "blocking"
            res.blocking_failures.append(
                f"{table}: expectation {rule.name} could not be evaluated: {agg.errors[0]}")
        elif bad == 0:
            pass
        elif rule.row_rule and bad >= n and n >= ALL_FAIL_MIN_ROWS:
            action = "blocking"
            what = ("column missing from every row" if rule.name.endswith("_required")
                    else "every row fails")
            res.blocking_failures.append(
                f"{table}: rule {rule.name} fails on all {n} rows ({what}); "
                f"e.g. {_examples_text(agg.examples)}")
        elif rule.row_rule:
            action = "quarantined"
            res.warnings.append(
                f"{table}: {bad} of {n} rows quarantined by rule {rule.name}; "
                f"e.g. {_examples_text(agg.examples)}")
        elif rule.severity == "error":
            action = "blocking"
            res.blocking_failures.append(
                f"{table}: {rule.name} failed on {bad} of {n} rows; "
                f"e.g. {_examples_text(agg.examples)}")
        else:
            action = "warning"
            res.warnings.append(
                f"{table}: warning {rule.name} on {bad} of {n} rows; "
                f"e.g. {_examples_text(agg.examples)}")
        res.expectations.append(_expectation(agg, action))


def _quarantine_share(con: duckdb.DuckDBPyConnection, res: EntityValidation) -> None:
    n, q = res.rows_checked, res.rows_quarantined
    share = q / n if n else 0.0
    blocking = n >= SHARE_MIN_ROWS and share > MAX_QUARANTINE_SHARE
    examples = [
        {"record_key": r[0], "values": {"rule": r[1]}, "reason": r[2]}
        for r in con.execute("SELECT record_key, rule, reason FROM _q_fail "
                             "ORDER BY record_key, rule LIMIT ?", [EXAMPLES]).fetchall()
    ]
    if blocking:
        res.blocking_failures.append(
            f"raw.{res.key}: {q} of {n} rows quarantined ({100 * share:.1f}% > "
            f"{100 * MAX_QUARANTINE_SHARE:.0f}% allowed); e.g. {_examples_text(examples)}")
    res.expectations.append({
        "name": "quarantined_share_within_limit", "expectation": "quarantine share (SQL)",
        "column": None, "severity": "error", "row_rule": False, "success": not blocking,
        "unexpected_count": q, "unexpected_percent": round(100 * share, 4),
        "examples": examples if blocking else [],
        "action": "blocking" if blocking else "ok",
    })


def _volume(con: duckdb.DuckDBPyConnection, res: EntityValidation,
            load_counts: dict[str, int]) -> None:
    recent = history.recent_load_counts(con, res.source, res.entity, list(load_counts),
                                        VOLUME_HISTORY)
    odd: list[dict[str, Any]] = []
    median = statistics.median(recent) if len(recent) >= VOLUME_MIN_HISTORY else None
    if median:
        for load_id, count in sorted(load_counts.items()):
            if count > median * VOLUME_FACTOR or count < median / VOLUME_FACTOR:
                odd.append({"record_key": load_id, "values": {"rows": str(count)},
                            "reason": f"load {load_id} has {count} rows vs median {median:g} "
                                      f"of the last {len(recent)} validated loads"})
    if odd:
        res.warnings.append(f"raw.{res.key}: unusual volume; " + _examples_text(odd))
    res.expectations.append({
        "name": "row_count_vs_recent_loads", "expectation": "load volume (SQL)",
        "column": None, "severity": "warn", "row_rule": False, "success": not odd,
        "unexpected_count": len(odd),
        "unexpected_percent": round(100 * len(odd) / len(load_counts), 4),
        "examples": odd[:EXAMPLES], "action": "warning" if odd else "ok",
    })


DRIFT_CHECKS = {  # expectation: (list column of the flattened batch, description)
    "no_new_fields": ("_new_fields", "top-level fields known to the spec (SQL)"),
    "optional_fields_present": ("_missing_fields", "optional fields present (SQL)"),
    "field_types_unchanged": ("_type_changes", "JSON types of the fields (SQL)"),
}


def _drift_reason(spec: EntitySpec, check: str, item: str, count: int,
                  n: int) -> tuple[str, str] | None:
    """(field, warning) for one drifted item of a check, or None when it is not drift.

    A sparse field (left out when empty) is drift only when no record of a batch of at least
    ALL_FAIL_MIN_ROWS has it.
    """
    fields = {f.label: f for f in spec.fields}
    if check == "no_new_fields":
        return item, f"new field `{item}` (not used by the pipeline) in {count} of {n} records"
    if check == "optional_fields_present":
        if fields[item].sparse and (count < n or n < ALL_FAIL_MIN_ROWS):
            return None
        return item, f"optional field `{item}` missing in {count} of {n} records"
    label, _, json_type = item.rpartition(":")
    expected = " or ".join(fields[label].expected_json)
    return label, (f"field `{label}` has type {JSON_TYPE_NAMES[json_type]} in {count} of {n} "
                   f"records, expected {expected} (the values still read)")


def _drift(con: duckdb.DuckDBPyConnection, spec: EntitySpec, res: EntityValidation) -> None:
    """Schema drift: one warning per drifted field, one expectation per check (SQL)."""
    n = res.rows_checked
    for check, (column, description) in DRIFT_CHECKS.items():
        rows = con.execute(f"""
            SELECT item, count(DISTINCT record_key),
                   list(DISTINCT record_key ORDER BY record_key)[:3]
            FROM (SELECT record_key, unnest({column}) AS item FROM _q_batch)
            GROUP BY item ORDER BY item""").fetchall()
        found = [(item, *drift, keys) for item, count, keys in rows
                 if (drift := _drift_reason(spec, check, item, int(count), n))]
        affected = con.execute(
            f"SELECT count(*) FROM _q_batch WHERE len(list_intersect({column}, ?)) > 0",
            [[item for item, *_ in found]]).fetchone()[0] if found else 0
        res.warnings += [f"{spec.label}: {reason}; e.g. {', '.join(keys)}"
                         for _, _, reason, keys in found]
        res.expectations.append({
            "name": check, "expectation": description,
            "column": ", ".join(field for _, field, _, _ in found) or None,
            "severity": "warn", "row_rule": False, "success": not found,
            "unexpected_count": affected,
            "unexpected_percent": round(100 * affected / n, 4) if n else 0.0,
            "examples": [{"record_key": keys[0], "values": {"field": field}, "reason": reason}
                         for _, field, reason, keys in found],
            "action": "warning" if found else "ok",
        })


SET_ASIDE_RULES = ("record_readable", "record_key_present")


def _key_fields(source: str, entity: str) -> str:
    """The fields of an entity's natural key, for messages (`courseid and id`)."""
    return " and ".join(f"`{f}`" for f in re.findall(r"\$\.(\w+)", ENTITIES[(source, entity)]))


def _set_aside(con: duckdb.DuckDBPyConnection, spec: EntitySpec, only_new_loads: bool,
               tables: set[str]) -> None:
    """Temp table `_q_set_aside (load_id, landing_file, rule, reason)`: the records of the
    new loads that never reached the raw table, with a reason naming the file and line."""
    where = _batch_where(spec, only_new_loads)
    parts = ["SELECT NULL::VARCHAR AS load_id, NULL::VARCHAR AS landing_file, "
             "NULL::VARCHAR AS rule, NULL::VARCHAR AS reason WHERE false"]
    entity = f"r.source = {sql_literal(spec.source)} AND r.entity = {sql_literal(spec.entity)}"
    if "raw._unreadable_records" in tables:
        parts.append(f"""
            SELECT load_id, landing_file, 'record_readable',
                   coalesce(original_name, landing_file)
                   || coalesce(' line ' || line, '') || ': ' || reason
            FROM raw._unreadable_records r WHERE {entity} AND {where}""")
    if "raw._unkeyed_records" in tables and "raw._landing_files" in tables:
        parts.append(f"""
            SELECT r.load_id, r.landing_file, 'record_key_present',
                   coalesce(f.meta->>'$.original_name', r.landing_file) || ' record '
                   || r.record_index || ': no {_key_fields(spec.source, spec.entity)} '
                   || '(a record without its key cannot be told apart from the others)'
            FROM raw._unkeyed_records r
            LEFT JOIN raw._landing_files f USING (source, entity, load_id, landing_file)
            WHERE {entity} AND {where}""")
    con.execute("CREATE OR REPLACE TEMP TABLE _q_set_aside AS "
                + " UNION ALL ".join(f"({p})" for p in parts))


def _judge_set_aside(con: duckdb.DuckDBPyConnection, res: EntityValidation) -> None:
    """Counts, a warning and an expectation row for the records set aside before validation."""
    counts = dict(con.execute("SELECT rule, count(*) FROM _q_set_aside GROUP BY rule")
                  .fetchall())
    res.rows_unreadable = counts.get("record_readable", 0)
    res.rows_unkeyed = counts.get("record_key_present", 0)
    examples = [{"record_key": None, "values": {"rule": rule}, "reason": reason}
                for rule, reason in con.execute(
                    "SELECT rule, reason FROM _q_set_aside ORDER BY rule, reason LIMIT ?",
                    [EXAMPLES]).fetchall()]
    total = res.rows_set_aside
    if total:
        res.warnings.append(
            f"raw.{res.key}: {total} record(s) set aside before validation "
            f"({res.rows_unreadable} unreadable, {res.rows_unkeyed} without a key); e.g. "
            + "; ".join(e["reason"] for e in examples))
    res.expectations.append({
        "name": "records_readable_with_key", "expectation": "records set aside at landing "
        "(SQL: raw._unreadable_records, raw._unkeyed_records)", "column": None,
        "severity": "warn", "row_rule": True, "success": not total,
        "unexpected_count": total,
        "unexpected_percent": round(100 * total / (res.rows_checked + total), 4) if total
        else 0.0,
        "examples": examples, "action": "quarantined" if total else "ok",
    })


def _write_set_aside(con: duckdb.DuckDBPyConnection, spec: EntitySpec, load_ids: list[str],
                     run_id: str, at: datetime) -> None:
    """The set-aside records of these loads into `quality.quarantine` (replacing earlier rows
    of the same loads), without a record key: no raw version matches them."""
    con.execute("DELETE FROM quality.quarantine WHERE source = ? AND entity = ? "
                "AND list_contains(?, rule) AND list_contains(?, load_id)",
                [spec.source, spec.entity, list(SET_ASIDE_RULES), load_ids])
    con.execute("""INSERT INTO quality.quarantine
                   SELECT ?, ?, NULL, load_id, landing_file, rule, reason, ?::TIMESTAMPTZ, ?
                   FROM _q_set_aside""", [spec.source, spec.entity, at, run_id])


def _write_quarantine(con: duckdb.DuckDBPyConnection, spec: EntitySpec, run_id: str,
                      at: datetime) -> None:
    con.execute("""DELETE FROM quality.quarantine q USING _q_batch b
                   WHERE q.source = ? AND q.entity = ?
                     AND q.record_key = b.record_key AND q.load_id = b.load_id""",
                [spec.source, spec.entity])
    con.execute("""INSERT INTO quality.quarantine
                   SELECT DISTINCT ?, ?, f.record_key, b.load_id, b.landing_file, f.rule,
                          f.reason, ?::TIMESTAMPTZ, ?
                   FROM _q_fail f JOIN _q_batch b ON b.record_key = f.record_key""",
                [spec.source, spec.entity, at, run_id])


def _validate(con: duckdb.DuckDBPyConnection, spec: EntitySpec, run_id: str, as_of: datetime,
              only_new_loads: bool) -> EntityValidation:
    res = EntityValidation(spec.source, spec.entity, run_id)
    tables = _raw_tables(con)
    if spec.table not in tables:
        return res
    where = _batch_where(spec, only_new_loads)
    load_counts = {r[0]: int(r[1]) for r in con.execute(
        f"SELECT load_id, count(*) FROM {spec.table} AS r WHERE {where} GROUP BY load_id"
    ).fetchall()}
    _set_aside(con, spec, only_new_loads, tables)
    # loads whose every record was set aside are done once counted (no row count: nothing
    # of theirs reached the table, so they do not weigh in the volume check)
    set_aside_loads: dict[str, int | None] = {r[0]: None for r in con.execute(
        "SELECT DISTINCT load_id FROM _q_set_aside").fetchall() if r[0] not in load_counts}
    res.load_ids = sorted(str(k) for k in (*load_counts, *set_aside_loads))
    try:
        if not res.load_ids:
            return res
        now = datetime.now(UTC)
        if load_counts:
            _validate_rows(con, spec, res, as_of, load_counts, _loads_where(load_counts),
                           tables)
        _judge_set_aside(con, res)
        _write_set_aside(con, spec, res.load_ids, run_id, now)
        if load_counts:
            _write_quarantine(con, spec, run_id, now)
        res.passed = not res.blocking_failures
        if res.passed:
            history.mark_loads_validated(con, spec.source, spec.entity,
                                         {**load_counts, **set_aside_loads}, run_id, now)
    finally:
        for temp in ("_q_batch", "_q_fail", "_q_set_aside"):
            con.execute(f"DROP TABLE IF EXISTS {temp}")
    return res


def _batch_columns(spec: EntitySpec) -> list[str]:
    """The columns of the flattened batch that validation reads: the load columns, the drift
    lists and what the rules read. The raw JSON and the other flattened columns are not
    materialised (nor computed: DuckDB drops the unused projections)."""
    read = [c for rule in spec.rules for c in rule_columns(rule)]
    return [f'"{c}"' for c in dict.fromkeys([KEY_COLUMN, "load_id", "landing_file",
                                              *DRIFT_COLUMNS, *read])]


def _validate_rows(con: duckdb.DuckDBPyConnection, spec: EntitySpec, res: EntityValidation,
                   as_of: datetime, load_counts: dict[str, int], where: str,
                   tables: set[str]) -> None:
    """Flatten the new loads' raw rows, evaluate the rules in SQL, check them against the GX
    suite on a sample, then the share, volume and drift checks (the temp tables `_q_batch`
    and `_q_fail` hold the batch and its failing rows)."""
    gx_suite.warm_up()  # GX loads meanwhile; a run with nothing new never imports it
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _q_batch AS
        SELECT {", ".join(_batch_columns(spec))} FROM ({flatten_sql(spec, where, tables)})""")
    con.execute("CREATE OR REPLACE TEMP TABLE _q_fail "
                "(record_key VARCHAR, rule VARCHAR, reason VARCHAR)")
    res.rows_checked = con.execute("SELECT count(*) FROM _q_batch").fetchone()[0]
    aggs = _run_rules(con, spec, as_of)
    res.rows_quarantined = con.execute(
        "SELECT count(DISTINCT record_key) FROM _q_fail").fetchone()[0]
    _judge(res, aggs)
    _gx_sample(con, spec, res, as_of)
    _quarantine_share(con, res)
    _volume(con, res, load_counts)
    _drift(con, spec, res)


def _gx_sample(con: duckdb.DuckDBPyConnection, spec: EntitySpec, res: EntityValidation,
               as_of: datetime) -> None:
    """Run the entity's GX suite on a bounded sample of the batch and compare it with the SQL
    rules on the same rows; any difference blocks the batch (the rules would be misapplied).

    The sample holds every row of up to GX_SAMPLE_KEYS keys picked by hash and of up to
    GX_SAMPLE_KEYS keys with a failing row rule, so planted bad rows are in it."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _q_sample AS
        SELECT * EXCLUDE (load_id, landing_file, {", ".join(DRIFT_COLUMNS)}) FROM _q_batch
        WHERE record_key IN (
            (SELECT DISTINCT record_key FROM _q_batch ORDER BY hash(record_key), record_key
             LIMIT {GX_SAMPLE_KEYS})
            UNION (SELECT DISTINCT record_key FROM _q_fail WHERE record_key IS NOT NULL
                   ORDER BY record_key LIMIT {GX_SAMPLE_KEYS}))""")
    try:
        sample_rows = con.execute("SELECT count(*) FROM _q_sample").fetchone()[0]
        diffs = disagreements(
            spec, as_of, _sample_frame(con),
            _rule_outcomes(con, spec.rules, as_of, "_q_sample"))
    finally:
        con.execute("DROP TABLE IF EXISTS _q_sample")
    if diffs:
        res.blocking_failures.append(
            f"raw.{res.key}: the SQL rules and the GX suite disagree on a sample of "
            f"{sample_rows} rows: " + "; ".join(diffs[:EXAMPLES]))
    res.expectations.append({
        "name": "gx_suite_agrees_on_sample", "expectation":
        f"GX suite {spec.key} on {sample_rows} sampled rows vs the SQL rules",
        "column": None, "severity": "error", "row_rule": False, "success": not diffs,
        "unexpected_count": len(diffs), "unexpected_percent": 0.0 if not diffs else 100.0,
        "examples": [{"record_key": None, "values": {}, "reason": d} for d in diffs[:EXAMPLES]],
        "action": "blocking" if diffs else "ok",
    })


def _sample_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    with warnings.catch_warnings():
        # pandas 3 deprecation notices raised inside duckdb, not actionable here
        warnings.simplefilter("ignore", DeprecationWarning)
        return con.execute("SELECT * FROM _q_sample").df()


def validate_entity(warehouse: Path, source: str, entity: str, *, run_id: str,
                    as_of: datetime, only_new_loads: bool = True,
                    limits: DuckDBLimits | None = None) -> EntityValidation:
    """Validate the not-yet-validated loads of `raw.<source>__<entity>`.

    Writes quarantine rows, validated loads and history; returns the outcome. A missing or
    empty raw table (or no new loads) gives a passing result with `rows_checked == 0`. DuckDB
    works within `limits` (default: the settings'); the flattened batch spills beyond them.
    """
    spec = get_spec(source, entity)
    as_of = _utc(as_of)
    started = datetime.now(UTC)
    with connect(warehouse, limits=limits) as con:
        con.execute("SET TimeZone = 'UTC'")
        history.ensure_schema(con)
        res = _validate(con, spec, run_id, as_of, only_new_loads)
        history.write_results(con, res, started, datetime.now(UTC))
    return res


def validate_all(warehouse: Path, *, run_id: str, as_of: datetime, report_dir: Path,
                 limits: DuckDBLimits | None = None) -> list[EntityValidation]:
    """Validate every raw entity and write `report_dir/validation_<run_id>.html`.

    An entity whose validation crashes gets a blocking failure naming the error; the other
    entities are still validated.
    """
    from quality.report import write_validation_report

    results: list[EntityValidation] = []
    for source, entity in SPECS:
        try:
            results.append(validate_entity(warehouse, source, entity, run_id=run_id,
                                           as_of=as_of, limits=limits))
        except Exception as exc:  # reported as a blocking failure of that entity
            res = EntityValidation(source, entity, run_id, passed=False, blocking_failures=[
                f"raw.{source}__{entity}: validation crashed: {type(exc).__name__}: {exc}"])
            with connect(warehouse, limits=limits) as con:
                history.ensure_schema(con)
                now = datetime.now(UTC)
                history.write_results(con, res, now, now)
            results.append(res)
    write_validation_report(results, Path(report_dir) / f"validation_{run_id}.html")
    return results


def summary(results: list[EntityValidation]) -> dict[str, Any]:
    """Small JSON-friendly summary of a run (for logs and metadata)."""
    return json.loads(json.dumps({
        r.key: {"rows_checked": r.rows_checked, "rows_quarantined": r.rows_quarantined,
                "rows_set_aside": r.rows_set_aside, "passed": r.passed} for r in results}))
