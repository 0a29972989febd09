{#- on-run-start: the tables that dbt reads but other stages own (quality.quarantine,
    raw._source_status; on Spark also the raw tables of the lake), made ready per engine. -#}
{% macro prepare_warehouse() -%}
    {{ return(adapter.dispatch('prepare_warehouse')()) }}
{%- endmacro %}

{#- Portable expressions: each dispatches to macros/engines/<engine>.sql. -#}

{#- Text of the JSON value at `path` ('$.a.b') of JSON text `expr`; NULL when absent. -#}
{% macro json_text(expr, path) -%}{{ adapter.dispatch('json_text')(expr, path) }}{%- endmacro %}

{#- The JSON array at `path` as a list of its items' text (strings unquoted), or of the text of
    each item's `field` when given; [] when absent. -#}
{% macro json_text_list(expr, path, field=none) -%}{{ adapter.dispatch('json_text_list')(expr, path, field) }}{%- endmacro %}

{#- The JSON array at `path` as a list of its items' JSON text; [] when absent. -#}
{% macro json_list(expr, path) -%}{{ adapter.dispatch('json_list')(expr, path) }}{%- endmacro %}

{#- JSON text parsed into a struct. `schema`: {field: type}, a type being 'varchar', 'bigint',
    'json' (the value's JSON text), [type] (a list) or a nested {field: type}. -#}
{% macro json_struct(expr, schema) -%}{{ adapter.dispatch('json_struct')(expr, schema) }}{%- endmacro %}

{#- List functions with a lambda: `var` names the item in `body`. -#}
{% macro list_map(list, var, body) -%}{{ adapter.dispatch('list_map')(list, var, body) }}{%- endmacro %}
{% macro list_where(list, var, body) -%}{{ adapter.dispatch('list_where')(list, var, body) }}{%- endmacro %}
{#- First item of a list (NULL when empty). -#}
{% macro list_first(list) -%}{{ adapter.dispatch('list_first')(list) }}{%- endmacro %}
{% macro list_has(list, item) -%}{{ adapter.dispatch('list_has')(list, item) }}{%- endmacro %}
{% macro list_max_of(list) -%}{{ adapter.dispatch('list_max_of')(list) }}{%- endmacro %}
{% macro list_any(list) -%}{{ adapter.dispatch('list_any')(list) }}{%- endmacro %}
{#- A struct literal from [(name, expression)] pairs. -#}
{% macro struct_of(pairs) -%}{{ adapter.dispatch('struct_of')(pairs) }}{%- endmacro %}
{#- A JSON object's keys. -#}
{% macro json_keys_of(expr) -%}{{ adapter.dispatch('json_keys_of')(expr) }}{%- endmacro %}

{#- Type of a UTC instant (DuckDB timestamptz; Spark timestamp in a UTC session). -#}
{% macro type_instant() -%}{{ adapter.dispatch('type_instant')() }}{%- endmacro %}
{#- Local wall-clock timestamp of UTC instant `ts` in time zone `tz`, and back. -#}
{% macro to_local_time(tz, ts) -%}{{ adapter.dispatch('to_local_time')(tz, ts) }}{%- endmacro %}
{% macro from_local_time(tz, ts) -%}{{ adapter.dispatch('from_local_time')(tz, ts) }}{%- endmacro %}
{#- Unix seconds (bigint) to an instant. -#}
{% macro instant_from_unix(expr) -%}{{ adapter.dispatch('instant_from_unix')(expr) }}{%- endmacro %}
{#- A string literal holding a regular expression. -#}
{% macro regex_literal(pattern) -%}{{ adapter.dispatch('regex_literal')(pattern) }}{%- endmacro %}
{#- regexp_replace of every match. -#}
{% macro regex_replace_all(expr, pattern, replacement) -%}{{ adapter.dispatch('regex_replace_all')(expr, pattern, replacement) }}{%- endmacro %}
{#- `chars` trimmed from the end of `expr`. -#}
{% macro rtrim_chars(expr, chars) -%}{{ adapter.dispatch('rtrim_chars')(expr, chars) }}{%- endmacro %}
{#- Text of the value under key `key_expr` (an SQL expression) of JSON object text `expr`. -#}
{% macro json_text_by_key(expr, key_expr) -%}{{ adapter.dispatch('json_text_by_key')(expr, key_expr) }}{%- endmacro %}
{#- In a select list: one row per item of `list` (none for an empty or NULL list). -#}
{% macro explode_list(list) -%}{{ adapter.dispatch('explode_list')(list) }}{%- endmacro %}
{#- Text of a wall-clock UTC time (no offset) to an instant; NULL when it does not parse. -#}
{% macro instant_from_utc_text(expr) -%}{{ adapter.dispatch('instant_from_utc_text')(expr) }}{%- endmacro %}
{#- The JSON value (object, array or scalar, as JSON) at `path` of JSON text `expr`. -#}
{% macro json_value(expr, path) -%}{{ adapter.dispatch('json_value')(expr, path) }}{%- endmacro %}
{#- In a select list: one row per item of `list`, as columns `item` and `index` (1-based). -#}
{% macro explode_with_index(list, item, index) -%}{{ adapter.dispatch('explode_with_index')(list, item, index) }}{%- endmacro %}
{#- `*` of the row without the named columns. -#}
{% macro star_except(columns) -%}{{ adapter.dispatch('star_except')(columns) }}{%- endmacro %}
{% macro empty_list() -%}{{ adapter.dispatch('empty_list')() }}{%- endmacro %}
{% macro list_last(list) -%}{{ adapter.dispatch('list_last')(list) }}{%- endmacro %}
{#- Number of items (NULL for a NULL list). -#}
{% macro list_size(list) -%}{{ adapter.dispatch('list_size')(list) }}{%- endmacro %}
{#- The `value` of the row with the smallest (keys...) tuple. -#}
{% macro arg_min_by(value, keys) -%}{{ adapter.dispatch('arg_min_by')(value, keys) }}{%- endmacro %}
{#- Seconds (double, microsecond precision) from instant `start` to instant `end`. -#}
{% macro seconds_between(start, end) -%}{{ adapter.dispatch('seconds_between')(start, end) }}{%- endmacro %}
{#- Text `expr` split on the literal separator `sep` (a list). -#}
{% macro split_text(expr, sep) -%}{{ adapter.dispatch('split_text')(expr, sep) }}{%- endmacro %}
{#- The first days of the months from month start `first` to month start `last` (a list of dates). -#}
{% macro month_starts(first, last) -%}{{ adapter.dispatch('month_starts')(first, last) }}{%- endmacro %}
{#- Whole months from month start `start` to month start `end`. -#}
{% macro months_between_starts(start, end) -%}{{ adapter.dispatch('months_between_starts')(start, end) }}{%- endmacro %}
{#- The local dates from `first` to `last` (a list). -#}
{% macro day_series(first, last) -%}{{ adapter.dispatch('day_series')(first, last) }}{%- endmacro %}
{#- Strategy of the month-incremental models (DuckDB: delete+insert of the period; the Spark
    build rebuilds them whole, its parquet tables overwrite). -#}
{% macro period_incremental_strategy() -%}{{ return(adapter.dispatch('period_incremental_strategy')()) }}{%- endmacro %}
{#- The `value` of the row with the largest (keys...) tuple. -#}
{% macro arg_max_by(value, keys) -%}{{ adapter.dispatch('arg_max_by')(value, keys) }}{%- endmacro %}
{#- Quantile `q` of `expr`, interpolated linearly between the nearest ranks. -#}
{% macro quantile(expr, q) -%}{{ adapter.dispatch('quantile')(expr, q) }}{%- endmacro %}
{#- A CTE's keyword that lets the engine inline it in each reader rather than compute it once. -#}
{% macro not_materialized() -%}{{ adapter.dispatch('not_materialized')() }}{%- endmacro %}
{#- `expr` is one of the values that the one-column `query` returns. -#}
{% macro in_query_result(expr, query) -%}{{ adapter.dispatch('in_query_result')(expr, query) }}{%- endmacro %}
{#- A set of ids (kpi_values: segments, KPIs): aggregated from the ids of a group (`id`, its
    `bit` in the relation `bits`, which numbers the ids from 0: `id_bits`), united over groups,
    and tested for one id; and whether a group's (non-NULL) sets are all the same set. -#}
{% macro id_bits(id, relation) -%}
    select {{ id }}, (row_number() over (order by {{ id }}) - 1)::integer as bit
    from (select distinct {{ id }} from {{ relation }}) as ids
{%- endmacro %}
{% macro id_set_agg(id, bit, bits) -%}{{ adapter.dispatch('id_set_agg')(id, bit, bits) }}{%- endmacro %}
{% macro id_set_union(sets) -%}{{ adapter.dispatch('id_set_union')(sets) }}{%- endmacro %}
{% macro id_set_has(set, id, bit) -%}{{ adapter.dispatch('id_set_has')(set, id, bit) }}{%- endmacro %}
{% macro id_sets_all_equal(sets) -%}{{ adapter.dispatch('id_sets_all_equal')(sets) }}{%- endmacro %}
{#- Materialisation of a model its readers scan several times: DuckDB inlines it (scanning the
    facts again costs less than writing and spilling the rows), Spark writes it once (it would
    plan and run every inlined copy). -#}
{% macro reread_materialization() -%}{{ return(adapter.dispatch('reread_materialization')()) }}{%- endmacro %}
{#- Experiments' list and text helpers. A list of the SQL expressions `items`. -#}
{% macro list_of(items) -%}{{ adapter.dispatch('list_of')(items) }}{%- endmacro %}
{#- The items of list `left`, then those of `right`. -#}
{% macro list_concat(left, right) -%}{{ adapter.dispatch('list_concat')(left, right) }}{%- endmacro %}
{#- Sum (double) of a list's non-NULL numbers; NULL when there are none. -#}
{% macro list_sum(list) -%}{{ adapter.dispatch('list_sum')(list) }}{%- endmacro %}
{#- The distinct non-NULL items of a list (in no particular order). -#}
{% macro list_distinct(list) -%}{{ adapter.dispatch('list_distinct')(list) }}{%- endmacro %}
{#- The non-NULL items of a list of text joined by the literal `sep`. -#}
{% macro list_join(list, sep) -%}{{ adapter.dispatch('list_join')(list, sep) }}{%- endmacro %}
{#- Aggregate: `expr` of the group's rows ordered by `order_by`, joined by the literal `sep`
    (NULL when no row has one); a FILTER clause may follow. -#}
{% macro string_agg_ordered(expr, sep, order_by) -%}{{ adapter.dispatch('string_agg_ordered')(expr, sep, order_by) }}{%- endmacro %}
{#- Text from the literal `template` with its placeholders replaced by the SQL expressions
    `args` in turn, as DuckDB's format() (fmt syntax); NULL when an argument is NULL. Portable
    placeholders: {} (text, integers, dates), {:.Nf} and {:+.Nf} (fixed), {:.Ng} (general). -#}
{% macro format_text(template, args) -%}{{ adapter.dispatch('format_text')(template, args) }}{%- endmacro %}
