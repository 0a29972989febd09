{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_superseded_versions('zendesk', 'ticket_events') }}") }}
-- One row per child event of a ticket audit (Create, Change, Comment, ...).
-- Field changes are normalised across both shapes Zendesk uses:
--   {"event_type": "Change", "status": "solved", "previous_value": "open"}       (field as key)
--   {"event_type": "Change", "field_name": "status", "value": "solved", ...}      (audit style)
-- into field_name / new_value / previous_value, and for status into new_status / previous_status
-- (a Create event carries the initial status, under `status` or audit style: one Create child
-- per field, `field_name: "status"` with its `value`). Comment bodies are masked for e-mail
-- addresses and phone numbers.
-- A table maintained by load, like stg_matomo__visits: each audit is unnested and parsed once,
-- when its version lands (record_key, load_id: the raw version each row came from).
-- Each audit and each child event is parsed once (from_json into a struct); only the
-- field-as-key Change shape looks at the child's keys.
with audits as (
    select
        record_key,
        load_id,
        {{ json_struct('record', {'id': 'varchar', 'ticket_id': 'varchar', 'created_at': 'varchar',
                                  'updater_id': 'varchar', 'child_events': ['json']}) }} as a
    from {{ source('zendesk', 'ticket_events') }}
    where {{ versions_to_parse('zendesk', 'ticket_events') }}
),

children as (
    select
        record_key,
        load_id,
        try_cast(a.id as bigint) as audit_id,
        try_cast(a.ticket_id as bigint) as ticket_id,
        try_cast(a.created_at as {{ type_instant() }}) as audit_at,
        try_cast(a.updater_id as bigint) as updater_id,
        {{ explode_with_index('a.child_events', 'child', 'child_index') }}
    from audits
),

parsed as (
    select
        *,
        {{ json_struct('child', {'event_type': 'varchar', 'field_name': 'varchar', 'value': 'varchar',
                                 'previous_value': 'varchar', 'status': 'varchar', 'id': 'varchar',
                                 'author_id': 'varchar', 'public': 'varchar', 'body': 'varchar',
                                 'created_at': 'varchar'}) }} as c
    from children
),

typed as (
    select
        *,
        c.event_type as child_type,
        case
            when c.event_type = 'Change' and c.field_name is not null
                then lower(c.field_name)
            when c.event_type = 'Change'
                then lower({{ list_first(list_where(json_keys_of('child'), 'k', "k not in (
                    'id', 'event_type', 'previous_value', 'value', 'field_name', 'via',
                    'via_reference_id', 'created_at')")) }})
        end as field_name
    from parsed
)

select
    audit_id,
    ticket_id,
    child_index,
    child_type,
    coalesce(try_cast(c.created_at as {{ type_instant() }}), audit_at) as event_at,
    updater_id,
    field_name,
    case when child_type = 'Change'
         then coalesce(c.value, {{ json_text_by_key('child', 'field_name') }}) end as new_value,
    case when child_type = 'Change' then c.previous_value end as previous_value,
    case
        when child_type = 'Create'
            then lower(coalesce(c.status, case when lower(c.field_name) = 'status' then c.value end))
        when child_type = 'Change' and field_name = 'status'
            then lower(coalesce(c.value, c.status))
    end as new_status,
    case when child_type = 'Change' and field_name = 'status'
         then lower(c.previous_value) end as previous_status,
    case when child_type = 'Comment' then try_cast(c.id as bigint) end as comment_id,
    case when child_type = 'Comment' then try_cast(c.author_id as bigint) end as author_id,
    case when child_type = 'Comment' then try_cast(c.public as boolean) end as is_public,
    case when child_type = 'Comment' then {{ mask_pii('c.body') }} end as comment_body,
    record_key,
    load_id
from typed
