-- Monthly support headline figures (SCMR-5). Ticket measures by local month of ticket creation
-- (the ticket anchor); tickets_solved by local month of the solve (distinct tickets changed to
-- solved in the month); backlog_end_of_month = backlog at the end of the month's last day (or
-- of the as_of day for the current month).
-- The five figures that are KPIs (first-reply median, both SLA compliances, reopen rate,
-- ticket CSAT) are read from kpi_values (segment all, month grain), where each KPI is computed
-- once with the small-sample rule of DESIGN.md section 6: a value with n < 10 is NULL here too.
with tickets as (
    select * from {{ ref('fct_tickets') }}
),

solved as (
    select {{ local_month('valid_from') }} as month_start, count(distinct ticket_id) as tickets_solved
    from {{ ref('int_ticket_status_changes_sequenced') }}
    where status = 'solved'
    group by 1
),

kpis as (
    select
        period_start as month_start,
        max(value) filter (where kpi_id = 'first_reply_median_minutes') as median_first_reply_minutes,
        max(value) filter (where kpi_id = 'frt_sla_compliance') as frt_sla_compliance,
        max(value) filter (where kpi_id = 'resolution_sla_compliance') as resolution_sla_compliance,
        max(value) filter (where kpi_id = 'reopen_rate') as reopen_rate,
        max(value) filter (where kpi_id = 'ticket_csat') as csat
    from {{ ref('kpi_values') }}
    where period_grain = 'month' and segment_id = 'all'
      and kpi_id in ('first_reply_median_minutes', 'frt_sla_compliance',
                     'resolution_sla_compliance', 'reopen_rate', 'ticket_csat')
    group by 1
),

backlog as (
    select date_trunc('month', day)::date as month_start,
           {{ arg_max_by("total", ["day"]) }}::bigint as backlog_end_of_month
    from (select day, sum(backlog_tickets) as total
          from {{ ref('fct_ticket_backlog_daily') }} group by 1)
    group by 1
),

monthly as (
    select
        created_month as month_start,
        count(*) as tickets_created,
        {{ quantile("first_reply_minutes", 0.9) }} as p90_first_reply_minutes,
        {{ quantile("full_resolution_minutes", 0.5) }} as median_full_resolution_minutes,
        {{ quantile("full_resolution_minutes", 0.9) }} as p90_full_resolution_minutes,
        count(*) filter (where csat_rating in ('good', 'bad')) as csat_responses,
        count(first_reply_minutes) as tickets_replied,
        count(*) filter (where reopen_count > 0) as tickets_reopened,
        count(*) filter (where is_one_touch) as tickets_one_touch
    from tickets
    group by 1
)

select
    m.month_start, m.tickets_created, coalesce(s.tickets_solved, 0) as tickets_solved,
    k.median_first_reply_minutes, m.p90_first_reply_minutes, m.median_full_resolution_minutes,
    m.p90_full_resolution_minutes, k.frt_sla_compliance, k.resolution_sla_compliance,
    k.reopen_rate, k.csat, m.csat_responses, m.tickets_replied, m.tickets_reopened,
    m.tickets_one_touch, b.backlog_end_of_month
from monthly as m
left join kpis as k using (month_start)
left join solved as s using (month_start)
left join backlog as b using (month_start)
