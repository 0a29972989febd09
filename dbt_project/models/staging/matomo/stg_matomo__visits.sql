-- One row per Matomo visit (idVisit). visit_date / visit_month: local date / month of the
-- first action (the web anchor, DESIGN.md section 6).
with visits as (
    select
        record_key,
        (record ->> '$.idVisit')::bigint as visit_id,
        nullif(trim(record ->> '$.visitorId'), '') as visitor_id,
        nullif(trim(record ->> '$.userId'), '') as person_id,
        lower(record ->> '$.visitorType') as visitor_type,
        lower(nullif(trim(record ->> '$.referrerType'), '')) as channel,
        lower(nullif(trim(record ->> '$.deviceType'), '')) as device_type,
        coalesce(try_cast(record ->> '$.visitDuration' as integer), 0) as duration_seconds,
        try_cast(record ->> '$.actions' as integer) as actions,
        {{ from_unix("record ->> '$.firstActionTimestamp'") }} as first_action_at,
        {{ from_unix("record ->> '$.lastActionTimestamp'") }} as last_action_at
    from {{ source('matomo', 'visits') }}
    where {{ not_quarantined('matomo', 'visits') }}
      and {{ latest_version('matomo', 'visits') }}
)

select
    *,
    {{ local_date('first_action_at') }} as visit_date,
    {{ local_month('first_action_at') }} as visit_month
from visits
