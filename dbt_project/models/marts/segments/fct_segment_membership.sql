-- depends_on: {{ ref('dim_segment') }}
-- Monthly segment membership: one row per local month x person x segment for which the
-- segment version active in that month has a rule that is true for the person-month.
-- Rules come from seeds/segments.csv through dim_segment at compile time (macro
-- kpi_segment_membership_sql).
with person_months as (
    select * from {{ ref('int_person_months_profiled') }}
),

membership as (
    {{ kpi_segment_membership_sql('person_months') }}
)

select
    cast(month_start as date) as month_start,
    cast(person_id as {{ dbt.type_string() }}) as person_id,
    cast(segment_id as {{ dbt.type_string() }}) as segment_id,
    cast(segment_version as integer) as segment_version
from membership
