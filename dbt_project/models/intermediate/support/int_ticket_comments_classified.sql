-- Ticket comments with the author's role, and which one opened the ticket: the comment of the
-- ticket's Create audit (Zendesk puts the description there), or the ticket's earliest when
-- that audit has none. A ticket whose Create audit was not pulled (created before the history
-- began) has no opening comment among its loaded ones: they all came later.
with events as (
    select ticket_id, audit_id, child_index, child_type, comment_id, author_id, is_public, event_at
    from {{ ref('stg_zendesk__ticket_events') }}
    where child_type in ('Comment', 'Create')
),

create_audits as (
    select ticket_id, min(audit_id) as create_audit_id
    from events
    where child_type = 'Create'
    group by 1
),

users as (
    select user_id, is_agent from {{ ref('stg_zendesk__users') }}
)

select
    c.ticket_id, c.audit_id, c.child_index, c.comment_id, c.author_id, c.is_public, c.event_at,
    coalesce(u.is_agent, false) as is_agent_author,
    coalesce(a.create_audit_id is not null and row_number() over (
        partition by c.ticket_id
        order by case when c.audit_id = a.create_audit_id then 0 else 1 end,
                 c.event_at, c.audit_id, c.child_index) = 1, false) as is_opening_comment
from events as c
left join create_audits as a on a.ticket_id = c.ticket_id
left join users as u on u.user_id = c.author_id
where c.child_type = 'Comment'
