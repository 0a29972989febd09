-- One row per Zendesk ticket (latest landed, not quarantined version). Free text (subject,
-- description) is not carried: only codes, ids and timestamps.
select
    record_key,
    load_id,
    try_cast(record ->> '$.id' as bigint) as ticket_id,
    try_cast(record ->> '$.created_at' as timestamptz) as created_at,
    {{ local_date("try_cast(record ->> '$.created_at' as timestamptz)") }} as created_date,
    {{ local_month("try_cast(record ->> '$.created_at' as timestamptz)") }} as created_month,
    try_cast(record ->> '$.updated_at' as timestamptz) as updated_at,
    lower(record ->> '$.status') as status,
    lower(nullif(trim(record ->> '$.priority'), '')) as priority,
    lower(record ->> '$.type') as ticket_type,
    lower(record ->> '$.via.channel') as channel,
    try_cast(record ->> '$.requester_id' as bigint) as requester_id,
    try_cast(record ->> '$.assignee_id' as bigint) as assignee_id,
    try_cast(record ->> '$.group_id' as bigint) as group_id,
    list_transform(coalesce(json_extract_string(record, '$.tags[*]'), []::varchar[]),
                   lambda t: lower(trim(t))) as tags,
    lower(record ->> '$.satisfaction_rating.score') as satisfaction_score
from {{ source('zendesk', 'tickets') }}
where {{ not_quarantined('zendesk', 'tickets') }}
