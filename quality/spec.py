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


@dataclass(frozen=True)
class _FieldSql:
    """The SQL of one field in the flattening layers (see `flatten_sql`): its JSON node, and
    the names of the columns holding its JSON type, text, number and invalid flag."""

    i: int
    kind: str

    @property
    def node(self) -> str:
        return f"_n[{self.i}]"

    @property
    def json_type(self) -> str:
        return f"__q_t{self.i}"

    @property
    def text(self) -> str:
        """The text of the node (`->> '$'`). Arrays and objects, often the largest values,
        serialise their node again where the text is used (their type says whether it is
        present), not in a column of every row."""
        if self.kind in ("array", "object"):
            return f"({self.node} ->> '$')"
        return f"__q_s{self.i}"

    @property
    def number(self) -> str:
        return f"__q_d{self.i}"

    @property
    def invalid(self) -> str:
        return f"__q_i{self.i}"

    @property
    def has_text(self) -> str:
        """The node is there and not JSON null (its text is not NULL)."""
        if self.kind in ("array", "object"):
            return f"{self.json_type} <> 'NULL'"
        return f"{self.text} IS NOT NULL"


def _json_type_sql(node: str) -> str:
    """DuckDB's `json_type` of a node. A node is written without leading blanks, so all but a
    number are known by their first character without parsing them (arrays and objects can
    be most of a record)."""
    return (f"CASE left({node}, 1) WHEN '[' THEN 'ARRAY' WHEN '{{' THEN 'OBJECT' "
            f"WHEN '\"' THEN 'VARCHAR' WHEN 't' THEN 'BOOLEAN' WHEN 'f' THEN 'BOOLEAN' "
            f"WHEN 'n' THEN 'NULL' ELSE json_type({node}) END")


def _typed_sql(kind: str, fs: _FieldSql, typed_column: str) -> tuple[str, str]:
    """(typed expression, invalid condition) for a field kind; the invalid condition may read
    the typed value as `typed_column` (it is computed one layer later)."""
    num, text, jtype = fs.number, fs.text, fs.json_type
    if kind == "text":
        return text, f"{jtype} IN ('OBJECT', 'ARRAY')"
    if kind == "int":
        return (f"CASE WHEN {num} = floor({num}) THEN TRY_CAST({num} AS BIGINT) END",
                f"{typed_column} IS NULL")
    if kind == "float":
        return f"CASE WHEN isfinite({num}) THEN {num} END", f"{typed_column} IS NULL"
    if kind == "ts":
        return f"TRY_CAST({text} AS TIMESTAMPTZ)", f"{typed_column} IS NULL"
    if kind == "unix_ts":  # 0 means "never" (Moodle), not an error
        return (f"CASE WHEN {num} > 0 AND {num} < 32503680000 THEN to_timestamp({num}) END",
                f"NOT coalesce({num} >= 0 AND {num} < 32503680000, false)")
    if kind == "bool":
        return (f"CASE WHEN {jtype} = 'BOOLEAN' THEN {text} = 'true' END",
                f"{jtype} <> 'BOOLEAN'")
    if kind in ("array", "object"):
        # an array's or object's node is already its text (as `->> '$'` would write it again)
        expected = kind.upper()
        return (f"CASE WHEN {jtype} = '{expected}' THEN {fs.node}::VARCHAR END",
                f"{jtype} <> '{expected}'")
    raise ValueError(f"unknown field kind {kind!r}")


def _list_sql(items: Sequence[str]) -> str:
    """A list of the non-NULL items (each an SQL expression)."""
    if not items:
        return "[]::VARCHAR[]"
    return f"list_filter([{', '.join(items)}], lambda x: x IS NOT NULL)"


def _drift_sql(spec: EntitySpec, sql: Mapping[str, _FieldSql]) -> list[str]:
    """The `DRIFT_COLUMNS` of the flattened batch (see the module docstring)."""
    known = "[" + ", ".join(sql_literal(k) for k in spec.all_known_keys) + "]"
    if spec.kobo_paths:  # `_`-prefixed keys are Kobo's own submission fields
        new = (f"list_transform(list_filter(_kv, lambda e: NOT starts_with(e.key, '_') "
               f"AND NOT list_contains({known}, e.k)), lambda e: e.key)")
    else:
        new = f"list_filter(json_keys(record), lambda k: NOT list_contains({known}, k))"
    # the JSON type of a node is NULL exactly when the node is absent
    missing = [f"CASE WHEN {sql[f.name].json_type} IS NULL THEN {sql_literal(f.label)} END"
               for f in spec.presence_checked()]
    changed = []
    for f in spec.fields:
        if f.kind in ("bool", "array", "object"):  # another JSON type does not read: quarantined
            continue
        fs = sql[f.name]
        expected = ", ".join(sql_literal(t) for t, name in JSON_TYPE_NAMES.items()
                             if name in f.expected_json)
        changed.append(f"CASE WHEN {fs.json_type} NOT IN ('NULL', {expected}) "
                       f"AND NOT {fs.invalid} "
                       f"THEN {sql_literal(f.label + ':')} || {fs.json_type} END")
    # CSV drop files carry every value as text: their JSON types say nothing about the vendor.
    return [f"{new} AS _new_fields", f"{_list_sql(missing)} AS _missing_fields",
            f"CASE WHEN landing_file LIKE '%.csv' THEN []::VARCHAR[] "
            f"ELSE {_list_sql(changed)} END AS _type_changes"]


def flatten_sql(spec: EntitySpec, where: str, existing_tables: set[str]) -> str:
    """SELECT producing the flattened batch (plus load columns) from the raw table.

    The record is parsed once into the list `_n` of the fields' JSON nodes; each layer above
    computes a field's pieces once (JSON type and text, then its number, its typed value, its
    invalid flag) for the columns of the batch to read. Columns a caller leaves out are not
    computed (DuckDB drops unused projections), so `validate` selects only what rules read.
    """
    sql = {f.name: _FieldSql(i, f.kind) for i, f in enumerate(spec.fields, start=1)}
    fields = [(f, sql[f.name]) for f in spec.fields]
    kv = ""
    if spec.kobo_paths:
        kv = (", list_transform(map_entries(json_transform(record, '\"MAP(VARCHAR, JSON)\"')),"
              " lambda e: {'key': e.key, 'k': regexp_extract(e.key, '[^/]*$'), 'v': e.value})"
              " AS _kv")
    types = [f"{_json_type_sql(fs.node)} AS {fs.json_type}" for _, fs in fields]
    texts = [f"({fs.node} ->> '$') AS {fs.text}" for f, fs in fields
             if f.kind not in ("array", "object")]
    numbers = [f"TRY_CAST({fs.text} AS DOUBLE) AS {fs.number}" for f, fs in fields
               if f.kind in ("int", "float", "unix_ts")]
    typed = [f"{_typed_sql(f.kind, fs, f.name)[0]} AS {f.name}" for f, fs in fields]
    invalid = [f"{_typed_sql(f.kind, fs, f.name)[1]} AS {fs.invalid}" for f, fs in fields]
    cols: list[str] = []
    for f, fs in fields:
        cols.append(f.name)
        if f.typed:
            cols.append(f"{fs.text} AS {f.name}__raw")
        cols.append(f"CASE WHEN {fs.has_text} AND {fs.invalid} THEN {fs.text} END "
                    f"AS {f.name}__invalid")
    cols += _drift_sql(spec, sql)
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

    def layer(columns: list[str]) -> str:
        return ", ".join(["*", *columns])

    return f"""
        SELECT {", ".join(outer)} FROM (
            SELECT record_key, load_id, landing_file, record,
                   {", ".join(cols)}
            FROM (SELECT {layer(invalid)}
            FROM (SELECT {layer(typed)}
            FROM (SELECT {layer(numbers)}
            FROM (SELECT {layer(types + texts)}
            FROM (SELECT *, {_nodes_sql(spec)} AS _n
            FROM (SELECT record_key, load_id, landing_file, record{kv}
                  FROM {spec.table} AS r WHERE {where}))))))
        )
    """
