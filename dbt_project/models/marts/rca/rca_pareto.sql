-- Pareto of tickets per local month and quarter by category, issue type and fishbone group
-- (DESIGN.md section 8, "Pareto rules"): items ordered by tickets desc then item name;
-- cumulative_share includes the item; the vital few are the smallest leading set whose
-- cumulative share reaches 0.80 (compared in integers, so an exact 0.80 is reached).
-- Unmapped tickets are the items `Uncategorised` / `Unknown`.
with tickets as (
    select
        created_month,
        coalesce(category, 'Uncategorised') as category,
        coalesce(issue_type, 'Uncategorised') as issue_type,
        coalesce(fishbone_group, 'Unknown') as fishbone_group
    from {{ ref('fct_tickets') }}
    where created_month is not null
),

periods as (
    select 'month' as period_grain, created_month as period_start, {{ star_except(['created_month']) }} from tickets
    union all
    select 'quarter', date_trunc('quarter', created_month)::date, {{ star_except(['created_month']) }} from tickets
),

items as (
    select period_grain, period_start, 'category' as dimension, category as item, count(*) as tickets
    from periods group by 1, 2, 3, 4
    union all
    select period_grain, period_start, 'issue_type', issue_type, count(*) from periods group by 1, 2, 3, 4
    union all
    select period_grain, period_start, 'fishbone_group', fishbone_group, count(*) from periods group by 1, 2, 3, 4
),

ordered as (
    select
        *,
        sum(tickets) over (partition by period_grain, period_start, dimension) as total_tickets,
        sum(tickets) over (
            partition by period_grain, period_start, dimension
            order by tickets desc, item
            rows between unbounded preceding and current row) as cumulative_tickets,
        row_number() over (
            partition by period_grain, period_start, dimension order by tickets desc, item) as rank
    from items
)

select
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(dimension as {{ dbt.type_string() }}) as dimension,
    cast(item as {{ dbt.type_string() }}) as item,
    cast(tickets as bigint) as tickets,
    cast(tickets / total_tickets::double as double) as share,
    cast(cumulative_tickets / total_tickets::double as double) as cumulative_share,
    cast(rank as integer) as rank,
    -- vital when the share before this item is still below 0.80: 5 x before < 4 x total
    cast(5 * (cumulative_tickets - tickets) < 4 * total_tickets as boolean) as is_vital_few
from ordered
