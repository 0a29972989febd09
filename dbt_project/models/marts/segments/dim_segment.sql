-- One row per segment version declared in seeds/segments.csv.
select
    cast(segment_id as {{ dbt.type_string() }}) as segment_id,
    cast(version as integer) as version,
    cast(name as {{ dbt.type_string() }}) as name,
    cast(family as {{ dbt.type_string() }}) as family,
    cast(rule as {{ dbt.type_string() }}) as rule,
    cast(active_from as date) as active_from,
    cast(active_to as date) as active_to,
    cast(owner as {{ dbt.type_string() }}) as owner,
    cast(active_to is null as boolean) as is_current
from {{ ref('segments') }}
