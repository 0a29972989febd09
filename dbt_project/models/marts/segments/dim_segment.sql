-- One row per segment version declared in seeds/segments.csv: a segment's rows are its
-- versions, numbered by active_from (the seed has exactly the columns of DESIGN.md section 7).
-- fct_segment_membership reads the versions from here (macro kpi_segment_versions).
select
    cast(segment_id as {{ dbt.type_string() }}) as segment_id,
    cast(row_number() over (partition by segment_id order by active_from) as integer) as version,
    cast(name as {{ dbt.type_string() }}) as name,
    cast(family as {{ dbt.type_string() }}) as family,
    cast(rule as {{ dbt.type_string() }}) as rule,
    cast(active_from as date) as active_from,
    cast(active_to as date) as active_to,
    cast(owner as {{ dbt.type_string() }}) as owner,
    cast(active_to is null as boolean) as is_current
from {{ ref('segments') }}
