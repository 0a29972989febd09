-- Status history of each ticket with validity intervals [valid_from, valid_to).
with changes as (
    select ticket_id, audit_id, child_index, event_at, new_status as status
    from {{ ref('stg_zendesk__ticket_events') }}
    where new_status is not null
)

select
    ticket_id,
    status,
    lag(status) over w as previous_status,
    event_at as valid_from,
    lead(event_at) over w as valid_to,
    row_number() over w as change_seq
from changes
window w as (partition by ticket_id order by event_at, audit_id, child_index)
