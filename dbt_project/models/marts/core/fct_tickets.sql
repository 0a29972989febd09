-- A table, not incremental: tickets change after their creation month (replies, solves,
-- reopens, CSAT ratings, SLA states that move from pending to met/breached at the cut-off), so
-- every run rebuilds all tickets from the current raw state. Rebuilding is cheap (tickets are
-- thousands, not millions) and keeps every month consistent with the latest events.
select
    ticket_id, person_id, requester_id, created_at, {{ local_date('created_at') }} as created_date,
    {{ local_month('created_at') }} as created_month,
    category, issue_type, fishbone_group, taxonomy_tag, priority,
    coalesce(priority, 'normal') as sla_priority, channel, status,
    first_reply_at, first_solved_at, last_solved_at,
    first_reply_minutes, first_resolution_minutes, full_resolution_minutes,
    reopen_count, reopen_count > 0 as is_reopened, public_agent_replies, is_one_touch,
    first_reply_target_minutes, resolution_target_minutes,
    frt_sla_status, resolution_sla_status, csat_rating
from {{ ref('int_tickets_measured') }}
