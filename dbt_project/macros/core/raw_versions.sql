{#- Keep only the latest landed version of each record key (by loaded_at, landing_file,
    record_index, as ingestion.raw orders them). raw.<source>__<entity> already holds one row per
    key; this guard keeps staging one-row-per-key if a raw table ever holds several versions
    (a merge after a kill, a hand-built table). The sub-query reads only the key columns, so it
    costs one narrow aggregate, never a window over the JSON records.
    Used in the WHERE clause of staging models over the unaliased raw source. -#}
{% macro latest_version(source_name, entity) -%}
    {%- set src = source(source_name, entity) -%}
    exists (
        select 1
        from (
            select record_key as k,
                   max({'loaded_at': loaded_at, 'landing_file': landing_file,
                        'record_index': record_index}) as v
            from {{ src }}
            group by 1
        ) as latest
        where latest.k = {{ src }}.record_key
          and latest.v = {'loaded_at': {{ src }}.loaded_at, 'landing_file': {{ src }}.landing_file,
                          'record_index': {{ src }}.record_index}
    )
{%- endmacro %}
