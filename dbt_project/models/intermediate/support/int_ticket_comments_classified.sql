-- Ticket comments with the author's role; the opening comment is the ticket's earliest.
with comments as (
    select ticket_id, audit_id, child_index, comment_id, author_id, is_public, event_at
    from {{ ref('stg_zendesk__ticket_events') }}
    where child_type = 'Comment'
),

users as (
    select user_id, is_agent from {{ ref('stg_zendesk__users') }}
)

select
    c.*,
    coalesce(u.is_agent, false) as is_agent_author,
    row_number() over (partition by c.ticket_id
                       order by c.event_at, c.audit_id, c.child_index) = 1 as is_opening_comment
from comments as c
left join users as u on u.user_id = c.author_id
