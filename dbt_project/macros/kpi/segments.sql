{#- Segment registry (seeds/segments.csv, its versions numbered in marts.dim_segment)
    evaluated at compile time.

    kpi_segment_versions() returns dim_segment's rows as a list of dicts (segment_id, version,
    rule, active_from, active_to). Unit tests replace the registry with the var
    `kpi_segments_override` (a list of the same dicts), so rules are testable without it.
    Before dim_segment exists (e.g. a bare `dbt compile`), it returns an empty list. -#}
{% macro kpi_segment_versions() %}
    {%- set override = var('kpi_segments_override', none) -%}
    {%- if override is not none -%}
        {{ return(override) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set registry = ref('dim_segment') -%}
    {%- set existing = adapter.get_relation(database=registry.database, schema=registry.schema, identifier=registry.identifier) -%}
    {%- if existing is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set result = run_query(
        "select segment_id, version, rule, cast(active_from as string) as active_from, "
        ~ "cast(active_to as string) as active_to from " ~ existing ~ " order by segment_id, version") -%}
    {%- set rows = [] -%}
    {%- for r in result.rows -%}
        {%- do rows.append({'segment_id': r[0], 'version': r[1], 'rule': r[2],
                            'active_from': r[3], 'active_to': r[4]}) -%}
    {%- endfor -%}
    {{ return(rows) }}
{% endmacro %}

{#- One SELECT per segment version over the person-month relation: the version's rule is
    the WHERE clause, its dates bound the months (active_to inclusive, NULL = open). -#}
{% macro kpi_segment_membership_sql(person_months) %}
    {%- set versions = kpi_segment_versions() -%}
    {%- if versions | length == 0 %}
    select
        cast(null as date) as month_start,
        cast(null as string) as person_id,
        cast(null as string) as segment_id,
        cast(null as integer) as segment_version
    where false
    {%- endif %}
    {%- for v in versions %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        pm.month_start,
        pm.person_id,
        '{{ v["segment_id"] }}' as segment_id,
        {{ v["version"] | int }} as segment_version
    from {{ person_months }} as pm
    where pm.month_start >= date '{{ v["active_from"] }}'
      {%- if v["active_to"] not in (none, '', 'None') %}
      and pm.month_start <= date '{{ v["active_to"] }}'
      {%- endif %}
      and coalesce(({{ v["rule"] }}), false)
    {%- endfor %}
{% endmacro %}
