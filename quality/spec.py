"""Declarative entity specs: flattener fields (DuckDB SQL over the raw JSON) and rules.

A *field* becomes typed columns of the flattened batch:

- `<name>`          the typed value (TRY_CAST of the JSON text; NULL when absent or invalid)
- `<name>__raw`     the JSON text as landed (typed fields only; used by "required" rules)
- `<name>__invalid` the JSON text when it is present but not of the field's type, else NULL

A *rule* is one Great Expectations expectation on the flattened batch plus what a failure
means: `row_rule=True` quarantines exactly the failing rows, `severity="error"` on a
non-row rule blocks the batch, `severity="warn"` only reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion.raw import sql_literal

AS_OF = "__AS_OF__"
"""Placeholder in rule kwargs, replaced by the run's `as_of` when the suite is built."""

TYPED_KINDS = ("int", "float", "ts", "unix_ts", "bool", "array", "object")
KIND_LABELS = {
    "int": "an integer",
    "float": "a number",
    "ts": "a timestamp",
    "unix_ts": "a unix timestamp",
    "bool": "a boolean (true/false)",
    "array": "a JSON array",
    "object": "a JSON object",
}


@dataclass(frozen=True)
class Field:
    """One flattened column: `path` is a JSON path (or the Kobo question name)."""

    name: str
    path: str
    kind: str = "text"

    @property
    def typed(self) -> bool:
        return self.kind in TYPED_KINDS


@dataclass(frozen=True)
class Rule:
    """One expectation with its severity, row-rule flag and human reason template.

    `reason` is formatted with the failing row's values (already rendered for display) keyed
    by column name, plus `value` (the value of `check_column`).
    """

    name: str
    expectation: str
    kwargs: Mapping[str, Any]
    column: str | None
    reason: str
    severity: str = "error"
    row_rule: bool = True
    check_column: str | None = None


@dataclass(frozen=True)
class Ref:
    """Referential check: `column` must be a `record_key` of raw table `target`."""

    column: str
    target: str
    exclude: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return f"{self.column}__unknown"


@dataclass(frozen=True)
class EntitySpec:
    """Everything needed to flatten and validate one raw entity."""

    source: str
    entity: str
    fields: Sequence[Field]
    rules: Sequence[Rule]
    derived: Mapping[str, str] = field(default_factory=dict)
    refs: Sequence[Ref] = ()
    kobo_paths: bool = False

    @property
    def table(self) -> str:
        return f"raw.{self.source}__{self.entity}"

    @property
    def key(self) -> str:
        return f"{self.source}__{self.entity}"


# --------------------------------------------------------------------------- rule helpers


def required(col: str, *, typed: bool = True, severity: str = "error",
             row_rule: bool = True) -> Rule:
    """The field must be present and not null."""
    checked = f"{col}__raw" if typed else col
    return Rule(f"{col}_required", "ExpectColumnValuesToNotBeNull", {"column": checked}, col,
                f"required field {col} is missing", severity, row_rule, checked)


def valid_type(f: Field, *, row_rule: bool = True, severity: str = "error") -> Rule:
    """A present value must parse as the field's type."""
    checked = f"{f.name}__invalid"
    return Rule(f"{f.name}_type", "ExpectColumnValuesToBeNull", {"column": checked}, f.name,
                f"{f.name} {{value}} is not {KIND_LABELS[f.kind]}", severity, row_rule, checked)


def in_set(col: str, values: Sequence[Any], *, row_rule: bool = True,
           severity: str = "error") -> Rule:
    """Accepted values (NULL is allowed unless a `required` rule says otherwise)."""
    shown = "|".join(str(v) for v in values)
    return Rule(f"{col}_accepted_values", "ExpectColumnValuesToBeInSet",
                {"column": col, "value_set": list(values)}, col,
                f"{col} {{value}} not in accepted values {shown}", severity, row_rule, col)


def between(col: str, lo: float | None, hi: float | None, *, row_rule: bool = True,
            severity: str = "error") -> Rule:
    """Numeric range, inclusive."""
    kwargs: dict[str, Any] = {"column": col}
    if lo is not None:
        kwargs["min_value"] = lo
    if hi is not None:
        kwargs["max_value"] = hi
    if lo is not None and hi is not None:
        text = f"outside the range {lo:g}..{hi:g}"
    elif lo is not None:
        text = f"is below {lo:g}"
    else:
        text = f"is above {hi:g}"
    return Rule(f"{col}_range", "ExpectColumnValuesToBeBetween", kwargs, col,
                f"{col} {{value}} {text}", severity, row_rule, col)


def not_future(col: str, *, row_rule: bool = True, severity: str = "error") -> Rule:
    """No timestamp after the run's `as_of`."""
    return Rule(f"{col}_not_in_future", "ExpectColumnValuesToBeBetween",
                {"column": col, "max_value": AS_OF}, col,
                f"{col} {{value}} is in the future (after the run's as_of {{as_of}})",
                severity, row_rule, col)


def ordered(later: str, earlier: str, *, row_rule: bool = True,
            severity: str = "error") -> Rule:
    """`later` >= `earlier` when both are present."""
    return Rule(f"{later}_not_before_{earlier}", "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": later, "column_B": earlier, "or_equal": True,
                 "ignore_row_if": "either_value_is_missing"}, later,
                f"{later} {{{later}}} is before {earlier} {{{earlier}}}",
                severity, row_rule, later)


def unique(*cols: str) -> Rule:
    """Keys unique inside the batch (blocking: the raw build should have resolved them)."""
    if len(cols) == 1:
        return Rule(f"{cols[0]}_unique", "ExpectColumnValuesToBeUnique", {"column": cols[0]},
                    cols[0], f"{cols[0]} {{value}} occurs more than once in the batch",
                    "error", False, cols[0])
    name = "_".join(cols)
    return Rule(f"{name}_unique", "ExpectCompoundColumnsToBeUnique",
                {"column_list": list(cols)}, ",".join(cols),
                "(" + ", ".join(f"{c}={{{c}}}" for c in cols) + ") occurs more than once",
                "error", False, cols[0])


def ref_rule(ref: Ref) -> Rule:
    """Warning: the referenced key is not (yet) in the referenced raw table."""
    return Rule(f"{ref.column}_exists_in_{ref.target.split('.')[-1]}",
                "ExpectColumnValuesToBeNull", {"column": ref.flag}, ref.column,
                f"{ref.column} {{value}} not found in {ref.target}", "warn", False, ref.flag)


def typed_rules(fields: Sequence[Field]) -> list[Rule]:
    """A type rule for every typed field."""
    return [valid_type(f) for f in fields if f.typed]


# ------------------------------------------------------------------------ SQL generation


def _field_nodes(spec: EntitySpec, f: Field) -> tuple[str, str]:
    """SQL for the field's JSON node and its text."""
    if spec.kobo_paths:
        name = sql_literal(f.path)
        node = (f"(list_filter(_kv, lambda e: e.k = {name})[1]).v")
        return node, f"({node} ->> '$')"
    path = sql_literal(f.path)
    return f"json_extract(record, {path})", f"json_extract_string(record, {path})"


def _typed_sql(kind: str, node: str, text: str) -> tuple[str, str]:
    """(typed expression, invalid condition) for a field kind."""
    num = f"TRY_CAST({text} AS DOUBLE)"
    if kind == "int":
        typed = f"CASE WHEN {num} = floor({num}) THEN TRY_CAST({num} AS BIGINT) END"
        return typed, f"({typed}) IS NULL"
    if kind == "float":
        typed = f"CASE WHEN isfinite({num}) THEN {num} END"
        return typed, f"({typed}) IS NULL"
    if kind == "ts":
        typed = f"TRY_CAST({text} AS TIMESTAMPTZ)"
        return typed, f"({typed}) IS NULL"
    if kind == "unix_ts":  # 0 means "never" (Moodle), not an error
        typed = (f"CASE WHEN {num} > 0 AND {num} < 32503680000 "
                 f"THEN to_timestamp({num}) END")
        return typed, f"NOT coalesce({num} >= 0 AND {num} < 32503680000, false)"
    if kind == "bool":
        typed = f"CASE WHEN json_type({node}) = 'BOOLEAN' THEN {text} = 'true' END"
        return typed, f"json_type({node}) <> 'BOOLEAN'"
    if kind in ("array", "object"):
        jtype = kind.upper()
        return (f"CASE WHEN json_type({node}) = '{jtype}' THEN {text} END",
                f"json_type({node}) <> '{jtype}'")
    raise ValueError(f"unknown field kind {kind!r}")


def flatten_sql(spec: EntitySpec, where: str, existing_tables: set[str]) -> str:
    """SELECT producing the flattened batch (plus load columns) from the raw table."""
    base_cols = "record_key, load_id, landing_file, record"
    kv = ""
    if spec.kobo_paths:
        kv = (", list_transform(map_entries(json_transform(record, '\"MAP(VARCHAR, JSON)\"')),"
              " lambda e: {'k': regexp_extract(e.key, '[^/]*$'), 'v': e.value}) AS _kv")
    cols: list[str] = []
    for f in spec.fields:
        node, text = _field_nodes(spec, f)
        if not f.typed:
            cols.append(f"{text} AS {f.name}")
            continue
        typed, invalid = _typed_sql(f.kind, node, text)
        cols += [f"{typed} AS {f.name}", f"{text} AS {f.name}__raw",
                 f"CASE WHEN {text} IS NOT NULL AND {invalid} THEN {text} END "
                 f"AS {f.name}__invalid"]
    flat = ",\n       ".join(cols)
    outer = ["*"]
    for name, expr in spec.derived.items():
        outer.append(f"{expr} AS {name}")
    for ref in spec.refs:
        if ref.target in existing_tables:
            skip = "".join(f" AND {ref.column}::VARCHAR <> {sql_literal(x)}" for x in ref.exclude)
            outer.append(
                f"CASE WHEN {ref.column} IS NOT NULL{skip} AND {ref.column}::VARCHAR NOT IN "
                f"(SELECT record_key FROM {ref.target} WHERE record_key IS NOT NULL) "
                f"THEN {ref.column} END AS {ref.flag}")
        else:
            outer.append(f"NULL::VARCHAR AS {ref.flag}")
    return f"""
        SELECT {", ".join(outer)} FROM (
            SELECT record_key, load_id, landing_file, record,
                   {flat}
            FROM (SELECT {base_cols}{kv} FROM {spec.table} AS r WHERE {where})
        )
    """
