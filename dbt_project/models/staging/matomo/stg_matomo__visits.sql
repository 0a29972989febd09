select
    record_key,
    (record ->> '$.idVisit')::bigint as visit_id,
    record ->> '$.visitorId' as visitor_id,
    nullif(trim(record ->> '$.userId'), '') as person_id,
    lower(record ->> '$.visitorType') as visitor_type,
    lower(record ->> '$.referrerType') as channel,
    lower(nullif(record ->> '$.deviceType', '')) as device_type,
    coalesce(try_cast(record ->> '$.visitDuration' as integer), 0) as duration_seconds,
    try_cast(record ->> '$.actions' as integer) as actions,
    {{ from_unix("record ->> '$.firstActionTimestamp'") }} as first_action_at,
    {{ from_unix("record ->> '$.lastActionTimestamp'") }} as last_action_at,
    {{ local_date(from_unix("record ->> '$.firstActionTimestamp'")) }} as visit_date
from {{ source('matomo', 'visits') }}
where {{ not_quarantined('matomo', 'visits') }}
