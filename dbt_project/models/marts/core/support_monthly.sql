-- Monthly support headline figures (SCMR-5). Ticket measures by local month of ticket creation
-- (the ticket anchor); tickets_solved by local month of the solve (distinct tickets changed to
-- solved in the month); backlog_end_of_month = backlog at the end of the month's last day (or
-- of the as_of day for the current month).
with tickets as (
    select * from {{ ref('fct_tickets') }}
),

solved as (
    select {{ local_month('valid_from') }} as month_start, count(distinct ticket_id) as tickets_solved
    from {{ ref('int_ticket_status_changes_sequenced') }}
    where status = 'solved'
    group by 1
),

backlog as (
    select date_trunc('month', day)::date as month_start,
           arg_max(total, day)::bigint as backlog_end_of_month
    from (select day, sum(backlog_tickets) as total
          from {{ ref('fct_ticket_backlog_daily') }} group by 1)
    group by 1
),

monthly as (
    select
        created_month as month_start,
        count(*) as tickets_created,
        quantile_cont(first_reply_minutes, 0.5) as median_first_reply_minutes,
        quantile_cont(first_reply_minutes, 0.9) as p90_first_reply_minutes,
        quantile_cont(full_resolution_minutes, 0.5) as median_full_resolution_minutes,
        quantile_cont(full_resolution_minutes, 0.9) as p90_full_resolution_minutes,
        count(*) filter (where frt_sla_status = 'met')
            / nullif(count(*) filter (where frt_sla_status in ('met', 'breached')), 0)
            as frt_sla_compliance,
        count(*) filter (where resolution_sla_status = 'met')
            / nullif(count(*) filter (where resolution_sla_status in ('met', 'breached')), 0)
            as resolution_sla_compliance,
        count(*) filter (where reopen_count > 0)
            / nullif(count(*) filter (where first_resolution_minutes is not null), 0)
            as reopen_rate,
        count(*) filter (where csat_rating = 'good')
            / nullif(count(*) filter (where csat_rating in ('good', 'bad')), 0) as csat,
        count(*) filter (where csat_rating in ('good', 'bad')) as csat_responses,
        count(first_reply_minutes) as tickets_replied,
        count(*) filter (where reopen_count > 0) as tickets_reopened,
        count(*) filter (where is_one_touch) as tickets_one_touch
    from tickets
    group by 1
)

select
    m.month_start, m.tickets_created, coalesce(s.tickets_solved, 0) as tickets_solved,
    m.median_first_reply_minutes, m.p90_first_reply_minutes, m.median_full_resolution_minutes,
    m.p90_full_resolution_minutes, m.frt_sla_compliance, m.resolution_sla_compliance,
    m.reopen_rate, m.csat, m.csat_responses, m.tickets_replied, m.tickets_reopened,
    m.tickets_one_touch, b.backlog_end_of_month
from monthly as m
left join solved as s using (month_start)
left join backlog as b using (month_start)
