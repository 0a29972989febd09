{#- Keep only record versions that quality did not quarantine (docs/ARCHITECTURE.md).
    Used in the WHERE clause of staging models over a raw source aliased as the source table. -#}
{% macro not_quarantined(source_name, entity) -%}
    not exists (
        select 1
        from {{ source('quality', 'quarantine') }} as q
        where q.source = '{{ source_name }}'
          and q.entity = '{{ entity }}'
          and q.record_key = {{ source(source_name, entity) }}.record_key
          and q.load_id = {{ source(source_name, entity) }}.load_id
    )
{%- endmacro %}

{#- pre_hook of staging tables maintained by load: on an incremental run, delete the rows whose
    raw version is gone (replaced by a newer landing) or is now quarantined, so that appending
    the versions not yet present rebuilds exactly what a full build would hold. The table
    carries the raw record_key and load_id of each row. -#}
{% macro delete_superseded_versions(source_name, entity) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as t
        where not exists (
            select 1
            from {{ source(source_name, entity) }}
            where {{ source(source_name, entity) }}.record_key = t.record_key
              and {{ source(source_name, entity) }}.load_id = t.load_id
              and {{ not_quarantined(source_name, entity) }}
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
