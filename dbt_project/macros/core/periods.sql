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
