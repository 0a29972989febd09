"""Declarative entity specs: flattener fields (DuckDB SQL over the raw JSON) and rules.

A *field* becomes typed columns of the flattened batch:

- `<name>`          the typed value (TRY_CAST of the JSON text; NULL when absent or invalid)
- `<name>__raw`     the JSON text as landed (typed fields only; used by "required" rules)
- `<name>__invalid` the JSON text when it is present but not of the field's type, else NULL

A text field has no `__raw` column (its value is its text) but has `__invalid` too: a JSON
object or array where text is expected.

A *rule* is one Great Expectations expectation on the flattened batch plus what a failure
means: `row_rule=True` quarantines exactly the failing rows, `severity="error"` on a
non-row rule blocks the batch, `severity="warn"` only reports.

Schema drift (the payload's shape against the spec) is flattened into three list columns,
`DRIFT_COLUMNS`, which `validate` counts in SQL into named warnings: top-level keys the spec
does not know, fields absent from the record, and fields whose JSON type differs from the
expected one although the value still reads.
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
    "text": "a text value (not a JSON object or array)",
    "int": "an integer",
    "float": "a number",
    "ts": "a timestamp",
    "unix_ts": "a unix timestamp",
    "bool": "a boolean (true/false)",
    "array": "a JSON array",
    "object": "a JSON object",
}
JSON_TYPES = {
    "int": ("number",), "float": ("number",), "unix_ts": ("number",), "ts": ("string",),
    "text": ("string",), "bool": ("boolean",), "array": ("array",), "object": ("object",),
}
"""The JSON type a vendor sends for a field kind (checked for drift only when the value reads)."""
JSON_TYPE_NAMES = {"VARCHAR": "string", "BOOLEAN": "boolean", "ARRAY": "array",
                   "OBJECT": "object", "BIGINT": "number", "UBIGINT": "number",
                   "DOUBLE": "number", "HUGEINT": "number"}
"""DuckDB's `json_type` to the JSON type named in warnings."""
DRIFT_COLUMNS = ("_new_fields", "_missing_fields", "_type_changes")
"""Per-record lists in the flattened batch: unknown top-level keys, absent fields (labels),
and `label:json type` of fields whose JSON type changed but whose value still reads."""
KOBO_META_KEYS = (
    "start", "end", "today", "deviceid", "username", "phonenumber", "simserial", "subscriberid",
    "audit", "uuid", "instanceID", "instanceName", "rootUuid", "deprecatedID",
)
"""Last path segments of KoboToolbox metadata questions (`meta/instanceID`, `formhub/uuid`);
keys starting with `_` are Kobo's own submission fields and are known too."""


@dataclass(frozen=True)
class Field:
    """One flattened column: `path` is a JSON path (or the Kobo question name).

    `sparse`: the vendor leaves the key out when there is no value (a Kobo question not
    answered, a Moodle user without idnumber), so only its absence from a whole batch is
    drift. `json_types` overrides the JSON types expected for the kind (e.g. Matomo sends
    numbers as strings on some servers).
    """

    name: str
    path: str
    kind: str = "text"
    sparse: bool = False
    json_types: tuple[str, ...] | None = None

    @property
    def typed(self) -> bool:
        """Has a typed value and a `__raw` column (every kind but text)."""
        return self.kind in TYPED_KINDS

    @property
    def label(self) -> str:
        """The field as the payload names it: `via.channel`, `beneficiary_id`."""
        return self.path.removeprefix("$.")

    @property
    def top_key(self) -> str:
        """The top-level key of the payload that holds the field."""
        return self.label.split(".")[0]

    @property
    def expected_json(self) -> tuple[str, ...]:
        return self.json_types or JSON_TYPES[self.kind]


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
    known_keys: Sequence[str] = ()
    """Other top-level keys the vendor documents: read by staging without a rule, or ignored.
    Any key outside these and the fields' own is reported as a new field."""

    @property
    def table(self) -> str:
        return f"raw.{self.source}__{self.entity}"

    @property
    def key(self) -> str:
        return f"{self.source}__{self.entity}"

    @property
    def label(self) -> str:
        """How warnings name the entity: `zendesk tickets`."""
        return f"{self.source} {self.entity.replace('_', ' ')}"

    @property
    def all_known_keys(self) -> list[str]:
        """Top-level keys (Kobo: question names) the spec knows, sorted."""
        known = {f.top_key for f in self.fields} | set(self.known_keys)
        if self.kobo_paths:
            known |= set(KOBO_META_KEYS)
        return sorted(known)

    def presence_checked(self) -> list[Field]:
        """Fields whose absence is reported as drift: those no `required` rule covers."""
        required_cols = {r.column for r in self.rules if r.name == f"{r.column}_required"}
        return [f for f in self.fields if f.name not in required_cols]


# --------------------------------------------------------------------------- rule helpers


def required(col: str, *, typed: bool = True, severity: str = "error",
             row_rule: bool = True, reason: str | None = None) -> Rule:
    """The field must be present and not null."""
    checked = f"{col}__raw" if typed else col
    return Rule(f"{col}_required", "ExpectColumnValuesToNotBeNull", {"column": checked}, col,
                reason or f"required field {col} is missing", severity, row_rule, checked)


def valid_type(f: Field, *, row_rule: bool = True, severity: str = "error") -> Rule:
    """A present value must parse as the field's type (the reason names the payload field)."""
    checked = f"{f.name}__invalid"
    return Rule(f"{f.name}_type", "ExpectColumnValuesToBeNull", {"column": checked}, f.name,
                f"{f.label} {{value}} is not {KIND_LABELS[f.kind]}", severity, row_rule,
                checked)


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
    """A type rule for every field: a value of another type quarantines the record."""
    return [valid_type(f) for f in fields]


# ------------------------------------------------------------------------ SQL generation


def _nodes_sql(spec: EntitySpec) -> str:
    """The list `_n` of every field's JSON node (NULL when absent), the record parsed once."""
    if spec.kobo_paths:
        return "[" + ", ".join(f"(list_filter(_kv, lambda e: e.k = {sql_literal(f.path)})[1]).v"
                               for f in spec.fields) + "]"
    return f"json_extract(record, [{', '.join(sql_literal(f.path) for f in spec.fields)}])"


def _field_nodes(spec: EntitySpec, f: Field) -> tuple[str, str]:
    """SQL for the field's JSON node and its text (from `_n`, see `_nodes_sql`)."""
    node = f"_n[{list(spec.fields).index(f) + 1}]"
    return node, f"({node} ->> '$')"


def _typed_sql(kind: str, node: str, text: str) -> tuple[str, str]:
    """(typed expression, invalid condition) for a field kind."""
    num = f"TRY_CAST({text} AS DOUBLE)"
    if kind == "text":
        return text, f"json_type({node}) IN ('OBJECT', 'ARRAY')"
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


def _list_sql(items: Sequence[str]) -> str:
    """A list of the non-NULL items (each an SQL expression)."""
    if not items:
        return "[]::VARCHAR[]"
    return f"list_filter([{', '.join(items)}], lambda x: x IS NOT NULL)"


def _drift_sql(spec: EntitySpec) -> list[str]:
    """The `DRIFT_COLUMNS` of the flattened batch (see the module docstring)."""
    known = "[" + ", ".join(sql_literal(k) for k in spec.all_known_keys) + "]"
    if spec.kobo_paths:  # `_`-prefixed keys are Kobo's own submission fields
        new = (f"list_transform(list_filter(_kv, lambda e: NOT starts_with(e.key, '_') "
               f"AND NOT list_contains({known}, e.k)), lambda e: e.key)")
    else:
        new = f"list_filter(json_keys(record), lambda k: NOT list_contains({known}, k))"
    missing = [f"CASE WHEN {_field_nodes(spec, f)[0]} IS NULL THEN {sql_literal(f.label)} END"
               for f in spec.presence_checked()]
    changed = []
    for i, f in enumerate(spec.fields, start=1):
        if f.kind in ("bool", "array", "object"):  # another JSON type does not read: quarantined
            continue
        node, text = _field_nodes(spec, f)
        expected = ", ".join(sql_literal(t) for t, name in JSON_TYPE_NAMES.items()
                             if name in f.expected_json)
        changed.append(f"CASE WHEN _t[{i}] NOT IN ('NULL', {expected}) "
                       f"AND NOT ({_typed_sql(f.kind, node, text)[1]}) "
                       f"THEN {sql_literal(f.label + ':')} || _t[{i}] END")
    # CSV drop files carry every value as text: their JSON types say nothing about the vendor.
    return [f"{new} AS _new_fields", f"{_list_sql(missing)} AS _missing_fields",
            f"CASE WHEN landing_file LIKE '%.csv' THEN []::VARCHAR[] "
            f"ELSE {_list_sql(changed)} END AS _type_changes"]


def flatten_sql(spec: EntitySpec, where: str, existing_tables: set[str]) -> str:
    """SELECT producing the flattened batch (plus load columns) from the raw table."""
    base_cols = "record_key, load_id, landing_file, record"
    kv = ""
    if spec.kobo_paths:
        kv = (", list_transform(map_entries(json_transform(record, '\"MAP(VARCHAR, JSON)\"')),"
              " lambda e: {'key': e.key, 'k': regexp_extract(e.key, '[^/]*$'), 'v': e.value})"
              " AS _kv")
    cols: list[str] = []
    for f in spec.fields:
        node, text = _field_nodes(spec, f)
        typed, invalid = _typed_sql(f.kind, node, text)
        cols.append(f"{typed} AS {f.name}")
        if f.typed:
            cols.append(f"{text} AS {f.name}__raw")
        cols.append(f"CASE WHEN {text} IS NOT NULL AND {invalid} THEN {text} END "
                    f"AS {f.name}__invalid")
    cols += _drift_sql(spec)
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
            FROM (SELECT *, list_transform(_n, lambda x: json_type(x)) AS _t
                  FROM (SELECT *, {_nodes_sql(spec)} AS _n FROM (
                      SELECT {base_cols}{kv} FROM {spec.table} AS r WHERE {where})))
        )
    """
