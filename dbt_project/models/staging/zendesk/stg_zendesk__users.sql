{{ config(materialized='table') }}
-- A table, not a view: its hashes come from saypro_pii_hash(), a function of dbt's own
-- connection (the salt stays out of SQL), so they are computed once, at build time, and any
-- reader of the warehouse sees them.
-- Zendesk users: role, SayPro person id (external_id), premium tag. Names are dropped; e-mail
-- and phone are salted hashes.
select
    record_key,
    try_cast(record ->> '$.id' as bigint) as user_id,
    nullif(trim(record ->> '$.external_id'), '') as person_id,
    lower(record ->> '$.role') as role,
    coalesce(lower(record ->> '$.role') in ('agent', 'admin'), false) as is_agent,
    list_contains(list_transform(coalesce(json_extract_string(record, '$.tags[*]'), []::varchar[]),
                                 lambda t: lower(trim(t))), 'premium') as is_premium,
    {{ pii_hash("record ->> '$.email'") }} as email_hash,
    {{ pii_hash("record ->> '$.phone'") }} as phone_hash,
    try_cast(record ->> '$.created_at' as timestamptz) as created_at,
    {{ local_date("try_cast(record ->> '$.created_at' as timestamptz)") }} as created_date
from {{ source('zendesk', 'users') }}
where {{ not_quarantined('zendesk', 'users') }}
