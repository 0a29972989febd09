-- KPI values compared with their targets (DESIGN.md section 8, "Scorecard rules").
-- Target: the most specific row of seeds/kpi_targets (the segment's own over `all`) with the
-- latest effective_from <= period_start, for the KPI and period grain. Rows without a target
-- are not in the scorecard. Suppressed values are `insufficient_data`, never ranked.
with kv as (
    select * from {{ ref('kpi_values') }}
),

catalog as (
    select kpi_id, direction, unit from {{ ref('kpi_catalog') }}
),

targets as (
    select
        kpi_id, segment_id, period_grain,
        cast(target as double) as target,
        cast(at_risk_tolerance_pct as double) as at_risk_tolerance_pct,
        cast(weight as integer) as weight,
        owner,
        cast(effective_from as date) as effective_from,
        {{ optional_seed_column('kpi_targets', 'basis', 'cast(null as ' ~ dbt.type_string() ~ ')') }} as basis
    from {{ ref('kpi_targets') }}
),

matched as (
    select
        kv.*,
        c.direction,
        c.unit,
        t.segment_id as target_segment_id,
        t.target, t.at_risk_tolerance_pct, t.weight, t.owner, t.effective_from as target_effective_from,
        t.basis as target_basis
    from kv
    join catalog as c on c.kpi_id = kv.kpi_id
    join targets as t
      on t.kpi_id = kv.kpi_id
     and t.period_grain = kv.period_grain
     and t.segment_id in (kv.segment_id, 'all')
     and t.effective_from <= kv.period_start
    qualify row_number() over (
        partition by kv.period_grain, kv.period_start, kv.kpi_id, kv.segment_id
        order by (t.segment_id = kv.segment_id) desc, t.effective_from desc) = 1
),

with_previous as (
    select
        m.*,
        prev.value as previous_value,
        bench.value as all_value
    from matched as m
    left join kv as prev
      on prev.period_grain = m.period_grain
     and prev.kpi_id = m.kpi_id
     and prev.segment_id = m.segment_id
     and prev.period_start = (m.period_start - case m.period_grain
                                 when 'quarter' then interval 3 month else interval 1 month end)::date
    left join kv as bench
      on bench.period_grain = m.period_grain
     and bench.period_start = m.period_start
     and bench.kpi_id = m.kpi_id
     and bench.segment_id = 'all'
),

gaps as (
    select
        *,
        case
            when reliability = 'suppressed' or value is null then null
            when direction = 'lower_is_better' then greatest(0, value - target)
            else greatest(0, target - value)
        end as shortfall
    from with_previous
),

scored as (
    select
        *,
        case when shortfall is not null and target <> 0 then 100.0 * shortfall / abs(target) end
            as shortfall_pct
    from gaps
),

statused as (
    select
        *,
        case
            when shortfall is null then 'insufficient_data'
            when shortfall = 0 then 'met'
            when shortfall_pct > at_risk_tolerance_pct
                 and case when direction = 'lower_is_better' then coalesce(ci_low, value) > target
                          else coalesce(ci_high, value) < target end
                then 'missed'
            else 'at_risk'
        end as status,
        coalesce(people, 0) as people_affected,
        -- least() skips NULLs: a suppressed row (no shortfall_pct) must get no impact at all
        case when shortfall_pct is not null
             then least(shortfall_pct, 100.0) / 100.0 * coalesce(people, 0) * weight
        end as impact_score
    from scored
),

ranked as (
    select
        *,
        case
            when impact_score is null or impact_score <= 0 then null
            when impact_score >= 0.5 * max(impact_score) over period then 'high'
            when impact_score >= 0.2 * max(impact_score) over period then 'medium'
            else 'low'
        end as impact_tier,
        case when status in ('missed', 'at_risk') then
            row_number() over (
                partition by period_grain, period_start, status in ('missed', 'at_risk')
                order by impact_score desc, weight desc, (segment_id = 'all') desc, kpi_id, segment_id)
        end as priority_rank
    from statused
    window period as (partition by period_grain, period_start)
)

select
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(kpi_id as {{ dbt.type_string() }}) as kpi_id,
    cast(segment_id as {{ dbt.type_string() }}) as segment_id,
    cast(value as double) as actual,
    cast(target as double) as target,
    cast(direction as {{ dbt.type_string() }}) as direction,
    cast(shortfall as double) as shortfall,
    cast(shortfall_pct as double) as shortfall_pct,
    cast(status as {{ dbt.type_string() }}) as status,
    cast(previous_value as double) as previous_value,
    cast(value - previous_value as double) as change_vs_previous,
    cast(weight as integer) as weight,
    cast(impact_score as double) as impact_score,
    cast(impact_tier as {{ dbt.type_string() }}) as impact_tier,
    cast(priority_rank as integer) as priority_rank,
    cast(owner as {{ dbt.type_string() }}) as owner,
    cast(n as bigint) as n,
    cast(reliability as {{ dbt.type_string() }}) as reliability,
    cast(at_risk_tolerance_pct as double) as at_risk_tolerance_pct,
    cast(target_segment_id as {{ dbt.type_string() }}) as target_segment_id,
    cast(all_value as double) as all_value,
    cast(coalesce(
        segment_id <> 'all'
        and shortfall > 0
        and all_value is not null
        and case when direction = 'lower_is_better' then value > all_value else value < all_value end,
        false) as boolean) as is_underperforming_segment,
    cast(people_affected as bigint) as people_affected,
    cast(unit as {{ dbt.type_string() }}) as unit,
    cast(ci_low as double) as ci_low,
    cast(ci_high as double) as ci_high,
    cast(target_basis as {{ dbt.type_string() }}) as target_basis
from ranked
