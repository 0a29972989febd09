{#- DuckDB-specific SQL (the default engine). Each macro here has its Spark twin in spark.sql. -#}

{% macro duckdb__prepare_warehouse() -%}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {#- The quality stage owns this table; create it empty so staging works before any
        validation. Ingestion owns raw._source_status (ingestion/raw.py record_source_status);
        empty until a first pull. -#}
    {%- do run_query("create schema if not exists quality") -%}
    {%- do run_query("create table if not exists quality.quarantine (
        source varchar, entity varchar, record_key varchar, load_id varchar, landing_file varchar,
        rule varchar, reason varchar, quarantined_at timestamptz, run_id varchar)") -%}
    {%- do run_query("create schema if not exists raw") -%}
    {%- do run_query("create table if not exists raw._source_status (source varchar primary key, mode varchar, checked_at timestamptz)") -%}
    select 1
{%- endmacro %}

{% macro duckdb__json_text(expr, path) -%}({{ expr }} ->> '{{ path }}'){%- endmacro %}

{% macro duckdb__json_text_list(expr, path, field) -%}
    coalesce(json_extract_string({{ expr }}, '{{ path }}[*]{{ "." ~ field if field }}'), []::varchar[])
{%- endmacro %}

{% macro duckdb__json_list(expr, path) -%}
    coalesce(json_extract({{ expr }}, '{{ path }}[*]'), []::json[])
{%- endmacro %}

{% macro duckdb__json_schema(schema) -%}
    {%- if schema is mapping -%}
        { {%- for name, type in schema.items() -%}"{{ name }}": {{ duckdb__json_schema(type) }}{{ ', ' if not loop.last }}{%- endfor -%} }
    {%- elif schema is string -%}
        "{{ schema | upper }}"
    {%- else -%}
        [{{ duckdb__json_schema(schema[0]) }}]
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__json_struct(expr, schema) -%}
    from_json({{ expr }}, '{{ duckdb__json_schema(schema) }}')
{%- endmacro %}

{% macro duckdb__list_map(list, var, body) -%}list_transform({{ list }}, lambda {{ var }}: {{ body }}){%- endmacro %}
{% macro duckdb__list_where(list, var, body) -%}list_filter({{ list }}, lambda {{ var }}: {{ body }}){%- endmacro %}
{% macro duckdb__list_first(list) -%}({{ list }})[1]{%- endmacro %}
{% macro duckdb__list_has(list, item) -%}list_contains({{ list }}, {{ item }}){%- endmacro %}
{% macro duckdb__list_max_of(list) -%}list_max({{ list }}){%- endmacro %}
{% macro duckdb__list_any(list) -%}list_bool_or({{ list }}){%- endmacro %}
{% macro duckdb__struct_of(pairs) -%}
    { {%- for name, value in pairs -%}'{{ name }}': {{ value }}{{ ', ' if not loop.last }}{%- endfor -%} }
{%- endmacro %}
{% macro duckdb__json_keys_of(expr) -%}json_keys({{ expr }}){%- endmacro %}

{% macro duckdb__type_instant() -%}timestamptz{%- endmacro %}
{% macro duckdb__to_local_time(tz, ts) -%}timezone('{{ tz }}', {{ ts }}){%- endmacro %}
{% macro duckdb__from_local_time(tz, ts) -%}timezone('{{ tz }}', {{ ts }}){%- endmacro %}
{% macro duckdb__instant_from_unix(expr) -%}to_timestamp({{ expr }}){%- endmacro %}
{% macro duckdb__regex_literal(pattern) -%}'{{ pattern }}'{%- endmacro %}
{% macro duckdb__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}
{% macro duckdb__rtrim_chars(expr, chars) -%}rtrim({{ expr }}, '{{ chars }}'){%- endmacro %}
{% macro duckdb__json_text_by_key(expr, key_expr) -%}({{ expr }} ->> {{ key_expr }}){%- endmacro %}
{% macro duckdb__explode_list(list) -%}unnest({{ list }}){%- endmacro %}
{% macro duckdb__instant_from_utc_text(expr) -%}try_cast({{ expr }} as timestamp) at time zone 'UTC'{%- endmacro %}
{% macro duckdb__json_value(expr, path) -%}({{ expr }} -> '{{ path }}'){%- endmacro %}
{% macro duckdb__explode_with_index(list, item, index) -%}unnest({{ list }}) as {{ item }},
        generate_subscripts({{ list }}, 1) as {{ index }}{%- endmacro %}
{% macro duckdb__star_except(columns) -%}* exclude ({{ columns | join(', ') }}){%- endmacro %}
{% macro duckdb__empty_list() -%}[]{%- endmacro %}
{% macro duckdb__list_last(list) -%}({{ list }})[-1]{%- endmacro %}
{% macro duckdb__list_size(list) -%}length({{ list }}){%- endmacro %}
{% macro duckdb__arg_min_by(value, keys) -%}
    arg_min({{ value }}, {% if keys | length > 1 %}({{ keys | join(', ') }}){% else %}{{ keys[0] }}{% endif %})
{%- endmacro %}
{% macro duckdb__seconds_between(start, end) -%}epoch({{ end }} - {{ start }}){%- endmacro %}
{% macro duckdb__split_text(expr, sep) -%}string_split({{ expr }}, '{{ sep }}'){%- endmacro %}
{% macro duckdb__month_starts(first, last) -%}
    list_transform(range({{ first }}, {{ last }} + interval 1 month, interval 1 month), lambda d: cast(d as date))
{%- endmacro %}
{% macro duckdb__months_between_starts(start, end) -%}date_diff('month', {{ start }}, {{ end }}){%- endmacro %}
{% macro duckdb__day_series(first, last) -%}
    list_transform(generate_series({{ first }}, {{ last }}, interval 1 day), lambda d: cast(d as date))
{%- endmacro %}
{% macro duckdb__period_incremental_strategy() -%}{{ return('delete+insert') }}{%- endmacro %}
{% macro duckdb__arg_max_by(value, keys) -%}
    arg_max({{ value }}, {% if keys | length > 1 %}({{ keys | join(', ') }}){% else %}{{ keys[0] }}{% endif %})
{%- endmacro %}
{% macro duckdb__quantile(expr, q) -%}quantile_cont({{ expr }}, {{ q }}){%- endmacro %}
{% macro duckdb__not_materialized() -%}not materialized{%- endmacro %}
{#- A list test rather than IN (subquery): DuckDB then filters before the joins that follow. -#}
{% macro duckdb__in_query_result(expr, query) -%}
    list_contains((select list(v) from ({{ query }}) as q(v)), {{ expr }})
{%- endmacro %}
{#- Id sets as bitstrings: bit i = the i-th id of the relation `bits`. -#}
{% macro duckdb__id_set_agg(id, bit, bits) -%}
    bit_or(set_bit(bitstring('0', (select count(*) from {{ bits }})::integer), {{ bit }}, 1))
{%- endmacro %}
{% macro duckdb__id_set_union(sets) -%}bit_or({{ sets }}){%- endmacro %}
{% macro duckdb__id_set_has(set, id, bit) -%}get_bit({{ set }}, {{ bit }}) = 1{%- endmacro %}
{#- Intersection = union: cheaper than comparing the least and greatest bitstring. -#}
{% macro duckdb__id_sets_all_equal(sets) -%}bit_and({{ sets }}) = bit_or({{ sets }}){%- endmacro %}
{% macro duckdb__reread_materialization() -%}{{ return('ephemeral') }}{%- endmacro %}
{% macro duckdb__list_of(items) -%}[{{ items | join(', ') }}]{%- endmacro %}
{% macro duckdb__list_concat(left, right) -%}({{ left }} || {{ right }}){%- endmacro %}
{% macro duckdb__list_sum(list) -%}list_sum({{ list }}){%- endmacro %}
{% macro duckdb__list_distinct(list) -%}list_distinct({{ list }}){%- endmacro %}
{% macro duckdb__list_join(list, sep) -%}array_to_string({{ list }}, '{{ sep }}'){%- endmacro %}
{% macro duckdb__string_agg_ordered(expr, sep, order_by) -%}
    string_agg({{ expr }}, '{{ sep }}' order by {{ order_by }})
{%- endmacro %}
{% macro duckdb__format_text(template, args) -%}
    format('{{ template | replace("'", "''") }}', {{ args | join(', ') }})
{%- endmacro %}
