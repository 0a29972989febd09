-- One row per child event of a ticket audit. Status changes are normalised across both shapes
-- Zendesk uses: {"status": "solved", "previous_value": ...} and
-- {"field_name": "status", "value": "solved", "previous_value": ...}.
with audits as (
    select
        record,
        (record ->> '$.id')::bigint as audit_id,
        (record ->> '$.ticket_id')::bigint as ticket_id,
        (record ->> '$.created_at')::timestamptz as audit_at,
        try_cast(record ->> '$.updater_id' as bigint) as updater_id
    from {{ source('zendesk', 'ticket_events') }}
    where {{ not_quarantined('zendesk', 'ticket_events') }}
),

children as (
    select
        audit_id, ticket_id, audit_at, updater_id,
        unnest(json_extract(record, '$.child_events[*]')) as child,
        generate_subscripts(json_extract(record, '$.child_events[*]'), 1) as child_index
    from audits
)

select
    audit_id,
    ticket_id,
    child_index,
    child ->> '$.event_type' as child_type,
    coalesce((child ->> '$.created_at')::timestamptz, audit_at) as event_at,
    updater_id,
    case
        when child ->> '$.event_type' = 'Create' then lower(child ->> '$.status')
        when child ->> '$.event_type' = 'Change' and child ->> '$.status' is not null
            then lower(child ->> '$.status')
        when child ->> '$.event_type' = 'Change' and child ->> '$.field_name' = 'status'
            then lower(child ->> '$.value')
    end as new_status,
    case when child ->> '$.event_type' = 'Change'
              and (child ->> '$.status' is not null or child ->> '$.field_name' = 'status')
         then lower(child ->> '$.previous_value') end as previous_status,
    try_cast(child ->> '$.id' as bigint) as comment_id,
    try_cast(child ->> '$.author_id' as bigint) as author_id,
    try_cast(child ->> '$.public' as boolean) as is_public,
    {{ mask_pii("child ->> '$.body'") }} as comment_body
from children
