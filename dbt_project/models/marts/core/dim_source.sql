-- One row per source of DESIGN.md section 4: whether it is configured (the mode of its last
-- pull) and what it holds, so that reports, the dashboard and BI tools can tell a source that is
-- not configured from one that is configured but quiet, and KPIs of absent sources are left out
-- (int_kpi_observations). Record counts are over the source's raw tables (latest version per
-- key). A new raw entity is added to the list below as well as to _sources.yml.
{%- set raw_tables = {
    'zendesk': ['tickets', 'ticket_events', 'users', 'articles'],
    'matomo': ['visits'],
    'moodle': ['categories', 'courses', 'enrolments', 'completions', 'grades'],
    'kobo': ['registration', 'feedback', 'forms'],
} %}
with landed as (
    {%- for source_name, tables in raw_tables.items() %}
    {%- set outer = loop %}
    {%- for table in tables %}
    select '{{ source_name }}' as source, count(*) as records, max(loaded_at) as last_loaded_at
    from {{ source(source_name, table) }}
    {{ 'union all' if not (loop.last and outer.last) }}
    {%- endfor %}
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
