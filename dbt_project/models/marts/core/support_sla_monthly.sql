-- SLA compliance per local month of ticket creation and priority (SCMR-5's breakdown): the
-- KPIs frt_sla_compliance and resolution_sla_compliance (DESIGN.md section 6: met / (met +
-- breached)), split by priority, with the same small-sample rule as kpi_values (macro
-- kpi_reliability: NULL when met + breached < 10). All priorities together are kpi_values'.
with tickets as (
    select created_month, coalesce(priority, 'none') as priority, frt_sla_status,
           resolution_sla_status
    from {{ ref('fct_tickets') }}
),

counted as (
    select
        created_month as month_start,
        priority,
        count(*) as tickets,
        count(*) filter (where frt_sla_status = 'met') as frt_met,
        count(*) filter (where frt_sla_status = 'breached') as frt_breached,
        count(*) filter (where resolution_sla_status = 'met') as resolution_met,
        count(*) filter (where resolution_sla_status = 'breached') as resolution_breached
    from tickets
    group by 1, 2
),

rated as (
    select
        *,
        {{ kpi_reliability('frt_met + frt_breached') }} as frt_reliability,
        {{ kpi_reliability('resolution_met + resolution_breached') }} as resolution_reliability
    from counted
)

select
    month_start,
    cast(priority as {{ dbt.type_string() }}) as priority,
    cast(tickets as bigint) as tickets,
    cast(frt_met as bigint) as frt_met,
    cast(frt_breached as bigint) as frt_breached,
    cast(case when frt_reliability != 'suppressed'
              then frt_met / (frt_met + frt_breached) end as double) as frt_sla_compliance,
    cast(frt_reliability as {{ dbt.type_string() }}) as frt_reliability,
    cast(resolution_met as bigint) as resolution_met,
    cast(resolution_breached as bigint) as resolution_breached,
    cast(case when resolution_reliability != 'suppressed'
              then resolution_met / (resolution_met + resolution_breached) end as double)
        as resolution_sla_compliance,
    cast(resolution_reliability as {{ dbt.type_string() }}) as resolution_reliability
from rated
