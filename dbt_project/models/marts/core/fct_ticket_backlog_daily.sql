-- Tickets whose status at the end of each local day is new, open, pending or hold.
with bounds as (
    select min({{ local_date('created_at') }}) as first_day,
           {{ local_date(as_of()) }} as last_day
    from {{ ref('stg_zendesk__tickets') }}
),

days as (
    select {{ explode_list(day_series('first_day', 'last_day')) }} as day
    from bounds
),

day_ends as (
    select day, {{ local_midnight('day + 1') }} as day_end from days
),

priorities as (
    select distinct coalesce(priority, 'none') as priority from {{ ref('stg_zendesk__tickets') }}
),

open_intervals as (
    select h.ticket_id, coalesce(t.priority, 'none') as priority, h.valid_from, h.valid_to
    from {{ ref('int_ticket_status_changes_sequenced') }} as h
    join {{ ref('stg_zendesk__tickets') }} as t using (ticket_id)
    where h.status in ('new', 'open', 'pending', 'hold')
),

counts as (
    select d.day, o.priority, count(*) as backlog_tickets
    from day_ends as d
    join open_intervals as o
      on o.valid_from < d.day_end and (o.valid_to is null or o.valid_to >= d.day_end)
    group by 1, 2
)

select d.day, p.priority, coalesce(c.backlog_tickets, 0) as backlog_tickets
from days as d
cross join priorities as p
left join counts as c using (day, priority)
