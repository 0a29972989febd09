{#- Spark-specific SQL (SAYPRO_ENGINE=spark; docs/DEPLOYMENT.md). Each macro here has its
    DuckDB twin in duckdb.sql. -#}

{#- Raw tables are Parquet in the lake (SAYPRO_LAKE_URI): <lake>/raw/<source>__<entity>/
    load_month=YYYY-MM/*.parquet, columns of ingestion.raw.RAW_COLUMNS with `record` as JSON
    text. Each becomes an external table over its folder (an empty folder is an empty table);
    raw._source_status is written there by the lake sync (ingestion/lake.py), quality.quarantine
    is handed over by the build driver (orchestration/spark_build.py) as Parquet under
    <lake>/quality/quarantine. -#}
{% macro spark__prepare_warehouse() -%}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set lake = env_var('SAYPRO_LAKE_URI', '') | trim -%}
    {%- if not lake -%}
        {{ exceptions.raise_compiler_error("SAYPRO_LAKE_URI is not set: the Spark build reads raw tables from the lake; run it through the pipeline (`SAYPRO_ENGINE=spark saypro run`, or the Dagster jobs), which sets it.") }}
    {%- endif -%}
    {%- set lake = lake.rstrip('/') -%}
    {%- for schema in ['raw', 'staging', 'intermediate', 'marts', 'quality'] -%}
        {%- do run_query("create database if not exists " ~ schema) -%}
    {%- endfor -%}
    {%- set raw_tables = [] -%}
    {%- for node in graph.sources.values() if node.schema == 'raw' and not node.identifier.startswith('_') -%}
        {%- do raw_tables.append(node.identifier) -%}
    {%- endfor -%}
    {%- for identifier in raw_tables | unique | sort -%}
        {%- do run_query("drop table if exists raw." ~ identifier) -%}
        {%- do run_query("create table raw." ~ identifier ~ " (
            record_key string, record string, source string, entity string, load_id string,
            loaded_at timestamp, landing_file string, record_index int, load_month string)
            using parquet partitioned by (load_month)
            location '" ~ lake ~ "/raw/" ~ identifier ~ "'") -%}
        {%- do run_query("msck repair table raw." ~ identifier) -%}
    {%- endfor -%}
    {%- do run_query("drop table if exists quality.quarantine") -%}
    {%- do run_query("create table quality.quarantine (
        source string, entity string, record_key string, load_id string, landing_file string,
        rule string, reason string, quarantined_at timestamp, run_id string)
        using parquet location '" ~ lake ~ "/quality/quarantine'") -%}
    {%- do run_query("drop table if exists raw._source_status") -%}
    {%- do run_query("create table raw._source_status (source string, mode string, checked_at timestamp)
        using parquet location '" ~ lake ~ "/raw/_source_status'") -%}
    select 1
{%- endmacro %}

{% macro spark__json_text(expr, path) -%}get_json_object({{ expr }}, '{{ path }}'){%- endmacro %}

{% macro spark__json_text_list(expr, path, field) -%}
    {%- if field -%}
    coalesce(transform(from_json(get_json_object({{ expr }}, '{{ path }}'), 'array<string>'),
                       item -> get_json_object(item, '$.{{ field }}')), array())
    {%- else -%}
    coalesce(from_json(get_json_object({{ expr }}, '{{ path }}'), 'array<string>'), array())
    {%- endif -%}
{%- endmacro %}

{#- A string element keeps a JSON object's or array's own text. -#}
{% macro spark__json_list(expr, path) -%}
    coalesce(from_json(get_json_object({{ expr }}, '{{ path }}'), 'array<string>'), array())
{%- endmacro %}

{% macro spark__json_type(schema) -%}
    {%- if schema is mapping -%}
        struct<{%- for name, type in schema.items() -%}`{{ name }}`: {{ spark__json_type(type) }}{{ ', ' if not loop.last }}{%- endfor -%}>
    {%- elif schema is string -%}
        {{ {'varchar': 'string', 'json': 'string'}.get(schema | lower, schema | lower) }}
    {%- else -%}
        array<{{ spark__json_type(schema[0]) }}>
    {%- endif -%}
{%- endmacro %}

{% macro spark__json_struct(expr, schema) -%}
    from_json({{ expr }}, '{{ spark__json_type(schema) }}')
{%- endmacro %}

{% macro spark__list_map(list, var, body) -%}transform({{ list }}, {{ var }} -> {{ body }}){%- endmacro %}
{% macro spark__list_where(list, var, body) -%}filter({{ list }}, {{ var }} -> {{ body }}){%- endmacro %}
{% macro spark__list_first(list) -%}try_element_at({{ list }}, 1){%- endmacro %}
{% macro spark__list_has(list, item) -%}array_contains({{ list }}, {{ item }}){%- endmacro %}
{% macro spark__list_max_of(list) -%}array_max({{ list }}){%- endmacro %}
{#- list_bool_or: NULL for an empty list or only NULLs, true when any item is true -#}
{% macro spark__list_any(list) -%}
    aggregate({{ list }}, cast(null as boolean), (acc, x) -> case when acc or x then true when acc is null then x else acc or x end)
{%- endmacro %}
{% macro spark__struct_of(pairs) -%}
    named_struct({%- for name, value in pairs -%}'{{ name }}', {{ value }}{{ ', ' if not loop.last }}{%- endfor -%})
{%- endmacro %}
{% macro spark__json_keys_of(expr) -%}json_object_keys({{ expr }}){%- endmacro %}

{% macro spark__type_instant() -%}timestamp{%- endmacro %}
{#- The session time zone is UTC (orchestration/spark_build.py). -#}
{% macro spark__to_local_time(tz, ts) -%}from_utc_timestamp({{ ts }}, '{{ tz }}'){%- endmacro %}
{% macro spark__from_local_time(tz, ts) -%}to_utc_timestamp({{ ts }}, '{{ tz }}'){%- endmacro %}
{% macro spark__instant_from_unix(expr) -%}timestamp_seconds({{ expr }}){%- endmacro %}
{#- raw literal: backslashes reach the regular expression as written -#}
{% macro spark__regex_literal(pattern) -%}r'{{ pattern }}'{%- endmacro %}
{% macro spark__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}
{% macro spark__rtrim_chars(expr, chars) -%}trim(trailing '{{ chars }}' from {{ expr }}){%- endmacro %}
{% macro spark__json_text_by_key(expr, key_expr) -%}get_json_object({{ expr }}, concat("$['", {{ key_expr }}, "']")){%- endmacro %}
{% macro spark__explode_list(list) -%}explode({{ list }}){%- endmacro %}
{% macro spark__instant_from_utc_text(expr) -%}cast(try_cast({{ expr }} as timestamp_ntz) as timestamp){%- endmacro %}
{% macro spark__json_value(expr, path) -%}get_json_object({{ expr }}, '{{ path }}'){%- endmacro %}
{% macro spark__explode_with_index(list, item, index) -%}inline(transform({{ list }}, (x, i) -> struct(x as {{ item }}, i + 1 as {{ index }}))){%- endmacro %}
{% macro spark__star_except(columns) -%}* except ({{ columns | join(', ') }}){%- endmacro %}
{% macro spark__empty_list() -%}array(){%- endmacro %}
{% macro spark__list_last(list) -%}try_element_at({{ list }}, -1){%- endmacro %}
{#- size(NULL) is NULL: the session sets spark.sql.legacy.sizeOfNull=false -#}
{% macro spark__list_size(list) -%}size({{ list }}){%- endmacro %}
{% macro spark__arg_min_by(value, keys) -%}
    min_by({{ value }}, {% if keys | length > 1 %}struct({{ keys | join(', ') }}){% else %}{{ keys[0] }}{% endif %})
{%- endmacro %}
{% macro spark__arg_max_by(value, keys) -%}
    max_by({{ value }}, {% if keys | length > 1 %}struct({{ keys | join(', ') }}){% else %}{{ keys[0] }}{% endif %})
{%- endmacro %}
{% macro spark__quantile(expr, q) -%}percentile({{ expr }}, {{ q }}){%- endmacro %}
{% macro spark__not_materialized() -%}{%- endmacro %}
{% macro spark__in_query_result(expr, query) -%}{{ expr }} in ({{ query }}){%- endmacro %}
{#- Id sets as sorted arrays of ids. -#}
{% macro spark__id_set_agg(id, bit, bits) -%}array_sort(collect_set({{ id }})){%- endmacro %}
{% macro spark__id_set_union(sets) -%}array_sort(array_distinct(flatten(collect_list({{ sets }})))){%- endmacro %}
{% macro spark__id_set_has(set, id, bit) -%}array_contains({{ set }}, {{ id }}){%- endmacro %}
{% macro spark__id_sets_all_equal(sets) -%}min({{ sets }}) = max({{ sets }}){%- endmacro %}
{% macro spark__reread_materialization() -%}{{ return('table') }}{%- endmacro %}
{% macro spark__seconds_between(start, end) -%}
    (cast(unix_micros({{ end }}) - unix_micros({{ start }}) as double) / 1000000)
{%- endmacro %}
{% macro spark__split_text(expr, sep) -%}split({{ expr }}, r'\Q{{ sep }}\E'){%- endmacro %}
{% macro spark__month_starts(first, last) -%}sequence({{ first }}, {{ last }}, interval 1 month){%- endmacro %}
{% macro spark__months_between_starts(start, end) -%}timestampdiff(MONTH, {{ start }}, {{ end }}){%- endmacro %}
{% macro spark__day_series(first, last) -%}sequence({{ first }}, {{ last }}, interval 1 day){%- endmacro %}
{% macro spark__period_incremental_strategy() -%}{{ return('insert_overwrite') }}{%- endmacro %}

{#- Seeds: dbt-spark's session connection pastes seed values into the INSERT unescaped, so a
    value with a quote (a hypothesis, a segment rule) breaks it; here each value is an escaped
    Spark literal. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set type = column_override.get(agate_table.column_names[loop.index0],
                                                       adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark_literal(value) }} as {{ type }}){%- if not loop.last %}, {% endif -%}
                {%- endfor -%}){%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}

{% macro spark_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is boolean -%}{{ 'true' if value else 'false' }}
    {%- elif value is number -%}{{ value }}
    {%- else -%}'{{ value | string | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
{% macro spark__list_of(items) -%}array({{ items | join(', ') }}){%- endmacro %}
{% macro spark__list_concat(left, right) -%}concat({{ left }}, {{ right }}){%- endmacro %}
{% macro spark__list_sum(list) -%}
    aggregate({{ list }}, cast(null as double), (acc, x) -> case when x is null then acc else coalesce(acc, 0) + x end)
{%- endmacro %}
{#- array_distinct keeps one NULL; list_distinct none -#}
{% macro spark__list_distinct(list) -%}array_distinct(filter({{ list }}, x -> x is not null)){%- endmacro %}
{% macro spark__list_join(list, sep) -%}array_join({{ list }}, '{{ sep }}'){%- endmacro %}
{% macro spark__string_agg_ordered(expr, sep, order_by) -%}
    string_agg({{ expr }}, '{{ sep }}') within group (order by {{ order_by }})
{%- endmacro %}

{#- format_string (Java's printf) for DuckDB's fmt placeholders: {} takes the argument's text
    (format_string prints a date as a day number), numbers are rounded as C's printf does
    (spark_c_rounded) and {:.Ng} is spark_general_number; a NULL argument gives NULL, as in
    DuckDB (format_string prints 'null'). -#}
{% macro spark__format_text(template, args) -%}
    {%- set parts = modules.re.split('([{][^}]*[}])', template) -%}
    {%- if parts | length != 2 * args | length + 1 -%}
        {{ exceptions.raise_compiler_error("format_text: " ~ args | length ~ " arguments for the template " ~ template) }}
    {%- endif -%}
    {%- set pieces = [] -%}
    {%- set values = [] -%}
    {%- for part in parts -%}
        {%- if loop.index0 is even -%}
            {%- do pieces.append(part | replace('%', '%%')) -%}
        {%- else -%}
            {%- set arg = args[loop.index0 // 2] -%}
            {%- set spec = part[1:-1] -%}
            {%- if spec == '' -%}
                {%- do pieces.append('%s') -%}
                {%- do values.append('cast(' ~ arg ~ ' as string)') -%}
            {%- elif modules.re.fullmatch(':[+]?[.][0-9]+f', spec) -%}
                {%- do pieces.append('%' ~ spec[1:]) -%}
                {%- do values.append(spark_c_rounded(arg, spec.split('.')[1][:-1] | int, true)) -%}
            {%- elif modules.re.fullmatch(':[.][0-9]+g', spec) -%}
                {%- set digits = spec[2:-1] | int -%}
                {%- do pieces.append('%s') -%}
                {%- do values.append(spark_general_number(spark_c_rounded(arg, digits, false), digits)) -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error("format_text: placeholder " ~ part ~ " has no Spark form") }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if args -%}
    case when {% for arg in args %}({{ arg }}) is null{{ ' or ' if not loop.last }}{% endfor %} then null else
    {%- endif %} format_string({{ spark_literal(pieces | join('')) }}, {{ values | join(', ') }})
    {%- if args %} end{%- endif -%}
{%- endmacro %}

{#- `value` bound to the lambda variable `name` in `body` (a `let`). -#}
{% macro spark_let(name, value, body) -%}
    element_at(transform(array({{ value }}), {{ name }} -> {{ body }}), 1)
{%- endmacro %}

{#- Double `expr`, changed where needed so that format_string's rounding of it to `digits`
    digits (decimals when `after_point`, else significant digits) is C's printf rounding of
    `expr`. Java rounds the shortest decimal D of the double half up, C rounds the exact
    binary value (half to even on an exact tie): they differ only when D ends in the 5 right
    after the last digit kept; then the exact value M / 2^s is compared with D in decimal
    arithmetic and, when C rounds down, the truncated D is returned (formatted as is). Where
    the comparison does not fit 38 digits (far outside 1e-9..1e9), Java's rounding stays. -#}
{% macro spark_c_rounded(expr, digits, after_point) -%}
    {%- set pow2 = "try_multiply(cast(shiftleft(1L, least(c_s, 62)) as decimal(38, 0)), cast(shiftleft(1L, greatest(c_s - 62, 0)) as decimal(38, 0)))" -%}
    {%- set lhs = "try_multiply(cast(c_m as decimal(38, 0)), try_cast(concat('1', repeat('0', greatest(c_q - c_d.e10, 0))) as decimal(38, 0)))" -%}
    {%- set rhs = "try_multiply(try_multiply(cast(c_h * 10 + 5 as decimal(38, 0)), " ~ pow2 ~ "), try_cast(concat('1', repeat('0', greatest(c_d.e10 - c_q, 0))) as decimal(38, 0)))" -%}
    {%- set exact_m = "case when c_s between 0 and 124 then " ~ spark_let('c_f', "abs(c_x) * cast(shiftleft(1L, least(c_s, 62)) as double) * cast(shiftleft(1L, greatest(c_s - 62, 0)) as double)", "case when c_f = floor(c_f) and c_f < 9.0e18 then cast(c_f as bigint) end") ~ " end" -%}
    {%- set rounds_down = rhs ~ " > " ~ lhs ~ " or (" ~ lhs ~ " = " ~ rhs ~ " and c_h % 2 = 0)" -%}
    {%- set down = spark_let('c_s', "53 - cast(floor(log2(abs(c_x))) as int)", spark_let('c_m', exact_m, rounds_down)) -%}
    {%- set truncated = "(case when c_x < 0 then -1 else 1 end) * cast(concat(cast(c_h as string), 'e', cast(c_d.e10 - c_q + 1 as string)) as double)" -%}
    {%- set by_tie = "case when c_q between 0 and 16 and substr(c_d.dg, c_q + 1, 1) = '5' and substr(c_d.dg, c_q + 2) rlike '^0*$' then "
        ~ spark_let('c_h', "case when c_q = 0 then 0L else cast(substr(c_d.dg, 1, c_q) as bigint) end",
                    "case when coalesce(" ~ down ~ ", false) then " ~ truncated ~ " else c_x end")
        ~ " else c_x end" -%}
    {%- set q = ('c_d.e10 + ' ~ (digits + 1)) if after_point else (digits | string) -%}
    {%- set by_digits = spark_let('c_d', "named_struct('e10', cast(substring_index(format_string('%.16e', abs(c_x)), 'e', -1) as int), 'dg', concat(substr(format_string('%.16e', abs(c_x)), 1, 1), substr(format_string('%.16e', abs(c_x)), 3, 16)))",
                                  spark_let('c_q', q, by_tie)) -%}
    {{ spark_let('c_x', 'cast(' ~ expr ~ ' as double)', "case when c_x is null or isnan(c_x) or abs(c_x) = double('inf') or c_x = 0 then c_x else " ~ by_digits ~ " end") }}
{%- endmacro %}

{#- C's %.<digits>g of double `expr` (as fmt's {:.Ng}): the exponent X of its %e form decides;
    -4 <= X < digits gives fixed notation with digits - 1 - X decimals, else scientific;
    trailing zeros (and a trailing point) dropped. -#}
{% macro spark_general_number(expr, digits) -%}
    {%- set sci = "format_string('%." ~ (digits - 1) ~ "e', g_x)" -%}
    {%- set exponent = "try_cast(substring_index(" ~ sci ~ ", 'e', -1) as int)" -%}
    {%- set body -%}
    case when isnan(g_x) then 'nan'
         when g_x = double('inf') then 'inf'
         when g_x = double('-inf') then '-inf'
         when {{ exponent }} between -4 and {{ digits - 1 }}
         then regexp_replace(regexp_replace(
                  format_string(concat('%.', {{ digits - 1 }} - {{ exponent }}, 'f'), g_x),
                  r'(\.[0-9]*?)0+$', '$1'), r'\.$', '')
         else regexp_replace({{ sci }}, r'\.?0+e', 'e')
    end
    {%- endset -%}
    {{ spark_let('g_x', expr, body) }}
{%- endmacro %}
