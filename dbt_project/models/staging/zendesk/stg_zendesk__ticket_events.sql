{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_superseded_versions('zendesk', 'ticket_events') }}") }}
-- One row per child event of a ticket audit (Create, Change, Comment, ...).
-- Field changes are normalised across both shapes Zendesk uses:
--   {"event_type": "Change", "status": "solved", "previous_value": "open"}       (field as key)
--   {"event_type": "Change", "field_name": "status", "value": "solved", ...}      (audit style)
-- into field_name / new_value / previous_value, and for status into new_status / previous_status
-- (a Create event carries the initial status). Comment bodies are masked for e-mail addresses
-- and phone numbers.
-- A table maintained by load, like stg_matomo__visits: each audit is unnested and parsed once,
-- when its version lands (record_key, load_id: the raw version each row came from).
with audits as (
    select
        record_key,
        load_id,
        record,
        (record ->> '$.id')::bigint as audit_id,
        (record ->> '$.ticket_id')::bigint as ticket_id,
        (record ->> '$.created_at')::timestamptz as audit_at,
        try_cast(record ->> '$.updater_id' as bigint) as updater_id
    from {{ source('zendesk', 'ticket_events') }}
    where {{ versions_to_parse('zendesk', 'ticket_events') }}
),

children as (
    select
        record_key, load_id, audit_id, ticket_id, audit_at, updater_id,
        unnest(json_extract(record, '$.child_events[*]')) as child,
        generate_subscripts(json_extract(record, '$.child_events[*]'), 1) as child_index
    from audits
),

typed as (
    select
        *,
        child ->> '$.event_type' as child_type,
        case
            when child ->> '$.event_type' = 'Change' and child ->> '$.field_name' is not null
                then lower(child ->> '$.field_name')
            when child ->> '$.event_type' = 'Change'
                then lower(list_filter(json_keys(child), lambda k: k not in (
                    'id', 'event_type', 'previous_value', 'value', 'field_name', 'via',
                    'via_reference_id', 'created_at'))[1])
        end as field_name
    from children
)

select
    audit_id,
    ticket_id,
    child_index,
    child_type,
    coalesce((child ->> '$.created_at')::timestamptz, audit_at) as event_at,
    updater_id,
    field_name,
    case when child_type = 'Change'
         then coalesce(child ->> '$.value', child ->> ('$."' || field_name || '"')) end as new_value,
    case when child_type = 'Change' then child ->> '$.previous_value' end as previous_value,
    case
        when child_type = 'Create' then lower(child ->> '$.status')
        when child_type = 'Change' and field_name = 'status'
            then lower(coalesce(child ->> '$.value', child ->> '$.status'))
    end as new_status,
    case when child_type = 'Change' and field_name = 'status'
         then lower(child ->> '$.previous_value') end as previous_status,
    case when child_type = 'Comment' then try_cast(child ->> '$.id' as bigint) end as comment_id,
    case when child_type = 'Comment' then try_cast(child ->> '$.author_id' as bigint) end
        as author_id,
    case when child_type = 'Comment' then try_cast(child ->> '$.public' as boolean) end
        as is_public,
    case when child_type = 'Comment' then {{ mask_pii("child ->> '$.body'") }} end as comment_body,
    record_key,
    load_id
from typed
