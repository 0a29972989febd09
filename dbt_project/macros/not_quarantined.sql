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
