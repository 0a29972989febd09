-- One row per source of DESIGN.md section 4: whether it is configured (the mode of its last
-- pull) and what it holds, so that reports, the dashboard and BI tools can tell a source that is
-- not configured from one that is configured but quiet, and KPIs of absent sources are left out
-- (kpi_observations). Record counts are over the source's raw tables (latest version per key).
-- The raw tables are every dbt source in schema `raw` other than the pipeline's own `_` tables,
-- read from the project graph when the model runs: a new source's staging YAML adds it here.
-- dbt sees these reads only at run time, so the Dagster translator (orchestration/defs/dbt.py)
-- adds the raw tables to this model's lineage from the `reads_all_raw_sources` meta flag.
{%- set raw_tables = [] %}
{%- if execute %}
{%- for node in graph.sources.values() | sort(attribute='unique_id') %}
{%- if node.schema == 'raw' and not node.identifier.startswith('_') %}
{%- do raw_tables.append((node.source_name, node.name)) %}
{%- endif %}
{%- endfor %}
{%- endif %}
with landed as (
    {%- for source_name, table in raw_tables %}
    select '{{ source_name }}' as source, count(*) as records, max(loaded_at) as last_loaded_at
    from {{ source(source_name, table) }}
    {{ 'union all' if not loop.last }}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as source, cast(0 as bigint) as records,
        cast(null as {{ type_instant() }}) as last_loaded_at
    where false
    {%- endfor %}
),

by_source as (
    select source, sum(records)::bigint as records, max(last_loaded_at) as last_loaded_at
    from landed
    group by source
),

status as (
    select source, mode, checked_at from {{ source('pipeline', 'source_status') }}
)

select
    cast(b.source as {{ dbt.type_string() }}) as source,
    coalesce(s.mode in ('api', 'drop'), false) as is_configured,
    cast(coalesce(s.mode, 'never_pulled') as {{ dbt.type_string() }}) as last_pull_mode,
    cast(s.checked_at as {{ type_instant() }}) as last_pull_at,
    b.records as raw_records,
    cast(b.last_loaded_at as {{ type_instant() }}) as last_loaded_at,
    coalesce(s.mode in ('api', 'drop'), false) or b.records > 0 as is_available
from by_source as b
left join status as s on s.source = b.source
