{{ config(materialized='table') }}
-- A table, not a view: its hashes come from saypro_pii_hash(), a function of dbt's own
-- connection (the salt stays out of SQL), so they are computed once, at build time, and any
-- reader of the warehouse sees them.
-- Zendesk users: role, SayPro person id (external_id), premium tag. Names are dropped; e-mail
-- and phone are salted hashes.
select
    record_key,
    try_cast({{ json_text('record', '$.id') }} as bigint) as user_id,
    nullif(trim({{ json_text('record', '$.external_id') }}), '') as person_id,
    lower({{ json_text('record', '$.role') }}) as role,
    coalesce(lower({{ json_text('record', '$.role') }}) in ('agent', 'admin'), false) as is_agent,
    {{ list_has(list_map(json_text_list('record', '$.tags'), 't', 'lower(trim(t))'), "'premium'") }} as is_premium,
    {{ pii_hash(json_text('record', '$.email')) }} as email_hash,
    {{ pii_hash(json_text('record', '$.phone')) }} as phone_hash,
    try_cast({{ json_text('record', '$.created_at') }} as {{ type_instant() }}) as created_at,
    {{ local_date("try_cast(" ~ json_text('record', '$.created_at') ~ " as " ~ type_instant() ~ ")") }} as created_date
from {{ source('zendesk', 'users') }}
where {{ not_quarantined('zendesk', 'users') }}
