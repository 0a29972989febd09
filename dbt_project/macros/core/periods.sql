{#- pre_hook of the month-incremental models: before an incremental run, delete the rows of the
    period being rebuilt (vars period_start / period_end; all rows when unset). delete+insert
    alone only replaces the months present in the new data, so a month whose source rows all
    disappeared (e.g. quarantined later) would keep stale rows; with this hook a rebuild of a
    period always equals a full build of it. -#}
{% macro delete_period(date_column) -%}
    {%- for name in ['period_start', 'period_end'] -%}
        {%- set value = var(name, none) -%}
        {%- if value and not (value | string).endswith('-01') -%}
            {{ exceptions.raise_compiler_error(name ~ " = " ~ value ~ ": month-incremental models rebuild whole local months; use the first day of a month (YYYY-MM-01).") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ period_filter(date_column) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The same local period as period_filter, as a range of instants on a timestamptz column:
    local date in [period_start, period_end) <=> instant in [local midnight of period_start,
    local midnight of period_end). DuckDB pushes this range below a view's JSON parsing, which
    it does not do for a filter on a local date, so a monthly run parses only its month. -#}
{% macro period_filter_at(timestamp_column) -%}
    {%- if var('period_start', none) and var('period_end', none) -%}
        {{ timestamp_column }} >= timezone('{{ var("timezone") }}', '{{ var("period_start") }}'::timestamp)
        and {{ timestamp_column }} < timezone('{{ var("timezone") }}', '{{ var("period_end") }}'::timestamp)
    {%- else -%} true {%- endif -%}
{%- endmacro %}
