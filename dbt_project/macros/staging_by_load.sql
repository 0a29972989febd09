{#- Staging tables maintained by load (docs/ARCHITECTURE.md): each row keeps the raw record_key
    and load_id of the version it was parsed from, and an incremental run reconciles only the
    loads whose valid raw versions differ from the table's, so that a run with nothing new
    reads key columns, not the history's JSON, and the table always equals a full build. -#}

{#- Loads whose set of valid (not quarantined) raw versions differs from the table's: a new
    load, a load that lost records to a newer landing, or one with a version quarantined (or
    released) since. Compared by count and a sum of key hashes per load. -#}
{% macro changed_loads(source_name, entity) -%}
    {%- set raw = source(source_name, entity) -%}
    select coalesce(r.load_id, t.load_id) as load_id
    from (
        select load_id, count(*) as n, sum(hash(record_key)) as key_hash
        from {{ raw }}
        where {{ not_quarantined(source_name, entity) }}
        group by load_id
    ) as r
    full join (
        select load_id, count(*) as n, sum(hash(record_key)) as key_hash
        from (select distinct load_id, record_key from {{ this }})
        group by load_id
    ) as t on t.load_id = r.load_id
    where r.n is distinct from t.n or r.key_hash is distinct from t.key_hash
{%- endmacro %}

{#- pre_hook: on an incremental run, delete the rows of changed loads whose raw version is gone
    (replaced by a newer landing) or is now quarantined. -#}
{% macro delete_superseded_versions(source_name, entity) -%}
    {%- if is_incremental() -%}
        {%- set raw = source(source_name, entity) -%}
        delete from {{ this }} as t
        where t.load_id in ({{ changed_loads(source_name, entity) }})
          and not exists (
              select 1
              from {{ raw }}
              where {{ raw }}.record_key = t.record_key
                and {{ raw }}.load_id = t.load_id
                and {{ not_quarantined(source_name, entity) }}
          )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- WHERE condition of the model over the raw source: on an incremental run, only the valid
    versions of changed loads that the table does not hold yet. -#}
{% macro versions_to_parse(source_name, entity) -%}
    {%- set raw = source(source_name, entity) -%}
    {{ not_quarantined(source_name, entity) }}
    {%- if is_incremental() %}
    and {{ raw }}.load_id in ({{ changed_loads(source_name, entity) }})
    and not exists (
        select 1 from {{ this }} as t
        where t.record_key = {{ raw }}.record_key and t.load_id = {{ raw }}.load_id
    )
    {%- endif -%}
{%- endmacro %}
