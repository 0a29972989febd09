select
    record_key,
    (record ->> '$.id')::bigint as user_id,
    nullif(trim(record ->> '$.external_id'), '') as person_id,
    lower(record ->> '$.role') as role,
    lower(record ->> '$.role') in ('agent', 'admin') as is_agent,
    list_contains(coalesce(json_extract_string(record, '$.tags[*]'), []::varchar[]), 'premium')
        as is_premium,
    {{ pii_hash("record ->> '$.email'") }} as email_hash,
    {{ pii_hash("record ->> '$.phone'") }} as phone_hash,
    (record ->> '$.created_at')::timestamptz as created_at
from {{ source('zendesk', 'users') }}
where {{ not_quarantined('zendesk', 'users') }}
