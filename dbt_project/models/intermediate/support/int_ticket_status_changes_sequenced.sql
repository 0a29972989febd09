-- Status history of each ticket: one row per status set (Create or status Change, both Change
-- shapes), ordered by time, audit id and child position, with the validity interval
-- [valid_from, valid_to) (valid_to NULL = still current) and the previous status.
-- A ticket without any status event in the audit log gets one row: its current status from
-- its creation time, so backlog and resolution never silently lose it.
with changes as (
    select ticket_id, audit_id, child_index, event_at, new_status as status
    from {{ ref('stg_zendesk__ticket_events') }}
    where new_status is not null
),

without_history as (
    select t.ticket_id, null::bigint as audit_id, 0::bigint as child_index,
           t.created_at as event_at, t.status
    from {{ ref('stg_zendesk__tickets') }} as t
    where t.status is not null
      and not exists (select 1 from changes as c where c.ticket_id = t.ticket_id)
),

all_changes as (
    select * from changes
    union all
    select * from without_history
)

select
    ticket_id,
    status,
    lag(status) over w as previous_status,
    event_at as valid_from,
    lead(event_at) over w as valid_to,
    row_number() over w as change_seq
from all_changes
window w as (partition by ticket_id order by event_at, audit_id nulls first, child_index)
