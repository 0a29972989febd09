-- One row per Zendesk ticket (latest landed, not quarantined version). Free text (subject,
-- description) is not carried: only codes, ids and timestamps.
select
    record_key,
    load_id,
    try_cast({{ json_text('record', '$.id') }} as bigint) as ticket_id,
    try_cast({{ json_text('record', '$.created_at') }} as {{ type_instant() }}) as created_at,
    {{ local_date("try_cast(" ~ json_text('record', '$.created_at') ~ " as " ~ type_instant() ~ ")") }} as created_date,
    {{ local_month("try_cast(" ~ json_text('record', '$.created_at') ~ " as " ~ type_instant() ~ ")") }} as created_month,
    try_cast({{ json_text('record', '$.updated_at') }} as {{ type_instant() }}) as updated_at,
    lower({{ json_text('record', '$.status') }}) as status,
    lower(nullif(trim({{ json_text('record', '$.priority') }}), '')) as priority,
    lower({{ json_text('record', '$.type') }}) as ticket_type,
    lower({{ json_text('record', '$.via.channel') }}) as channel,
    try_cast({{ json_text('record', '$.requester_id') }} as bigint) as requester_id,
    try_cast({{ json_text('record', '$.assignee_id') }} as bigint) as assignee_id,
    try_cast({{ json_text('record', '$.group_id') }} as bigint) as group_id,
    {{ list_map(json_text_list('record', '$.tags'), 't', 'lower(trim(t))') }} as tags,
    lower({{ json_text('record', '$.satisfaction_rating.score') }}) as satisfaction_score
from {{ source('zendesk', 'tickets') }}
where {{ not_quarantined('zendesk', 'tickets') }}
