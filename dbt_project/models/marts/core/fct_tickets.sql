-- A table, not incremental: tickets change after their creation month (replies, solves,
-- reopens), so every run rebuilds all tickets from the current raw state.
select
    ticket_id, person_id, created_at, {{ local_month('created_at') }} as created_month,
    category, issue_type, fishbone_group, priority, channel, status,
    first_reply_minutes, first_resolution_minutes, full_resolution_minutes,
    reopen_count, public_agent_replies, is_one_touch, frt_sla_status, resolution_sla_status,
    csat_rating
from {{ ref('int_tickets_measured') }}
