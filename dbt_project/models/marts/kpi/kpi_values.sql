-- Every KPI of the catalogue per local month and quarter, for `all` and each segment active in
-- the period, with n, 95% interval and reliability (DESIGN.md sections 6 and 8).
-- A record counts for a segment when its person is a member in the record's month, so a
-- quarter's segment value pools the three months' member records.
-- obs (kpi_observations, ephemeral) is a query over the facts. dbt inlines it as a CTE that
-- DuckDB (2.0) materialises once for the six readers below (45.6M rows at scale 100); read
-- again by each instead, the build is faster with memory to spare but runs out of it under the
-- default 1GB cap (benchmarks/README.md, "The memory default").
with obs as {{ not_materialized() }} (
    select * from {{ ref('kpi_observations') }}
),

-- How each catalogue KPI aggregates: macros/kpi/catalog.sql.
catalog as (
    select kpi_id, {{ kpi_computation_attribute('kpi_id', 'aggregation') }} as aggregation
    from {{ ref('kpi_catalog') }}
),

-- One row per month, person and segment (a tested unique combination of the mart).
membership as (
    select month_start, person_id, segment_id from {{ ref('fct_segment_membership') }}
),

segment_versions as (
    select segment_id, active_from, active_to from {{ ref('dim_segment') }}
),

-- Records are aggregated per combination of segments rather than once per segment they count
-- in: a person-month's segments become one set (macro id_set_agg; on DuckDB a bitstring,
-- bit i = the i-th segment id), every record takes its person-month's, and each
-- combination's sums are then added to each segment of it.
-- The heavy grouping works on a few hundred thousand combinations, not on tens of millions of
-- (record, segment) pairs.
segment_bits as (
    {{ id_bits('segment_id', 'membership') }}
),

person_month_segments as (
    select
        m.month_start,
        m.person_id,
        {{ id_set_agg('b.segment_id', 'b.bit', 'segment_bits') }} as segments
    from membership as m
    join segment_bits as b using (segment_id)
    group by all
),

-- The KPIs of the catalogue numbered the same way, for the distinct counts below.
kpi_bits as (
    {{ id_bits('kpi_id', 'catalog') }}
),

-- Algebraic measures: sums and counts, so that any grain adds them up. The spread of a mean KPI
-- comes from the sum and the sum of squares (exact in double for integer values while the sum
-- of squares stays below 2^53, about 9e15). NULL segments: a record without a person or whose
-- person is in no segment that month (it counts in `all` only).
agg_combinations as (
    select o.month_start, o.kpi_id, s.segments, {{ kpi_algebraic_measures() }}
    from obs as o
    left join person_month_segments as s
      on s.person_id = o.person_id
     and s.month_start = o.month_start
    group by all
),

agg_all as (
    select month_start, kpi_id, 'all' as segment_id, {{ kpi_sum_of_measures() }}
    from agg_combinations
    group by month_start, kpi_id
),

agg_months as (
    select * from agg_all
    union all
    select c.month_start, c.kpi_id, b.segment_id, {{ kpi_sum_of_measures('c.') }}
    from agg_combinations as c
    join segment_bits as b on {{ id_set_has('c.segments', 'b.segment_id', 'b.bit') }}
    group by c.month_start, c.kpi_id, b.segment_id
),

-- A quarter's segment value pools the records its person was a member for in each of its
-- months, so its sums are the sums of its months'.
agg_algebraic as (
    select 'month' as period_grain, month_start as period_start, {{ star_except(['month_start']) }}
    from agg_months
    union all
    select 'quarter', quarter_start, kpi_id, segment_id, {{ kpi_sum_of_measures() }}
    from (select *, date_trunc('quarter', month_start)::date as quarter_start from agg_months)
    group by quarter_start, kpi_id, segment_id
),

-- A count KPI counts distinct record ids. Where no record id repeats (a ticket, a visit), that
-- is its number of records, an algebraic sum like the others.
count_kpis as (
    select o.kpi_id, count(*) = count(distinct o.record_id) as records_are_distinct
    from obs as o
    join catalog as c on c.kpi_id = o.kpi_id and c.aggregation = 'count'
    group by all
),

-- The other count KPIs (a visitor, a learner) need the records themselves. The KPI filter is a
-- test against the query's result rather than a join, so that it drops the other KPIs'
-- observations before their segments are looked up (DuckDB's optimiser moves a join above the
-- segment lookup).
repeated_records as (
    select kpi_id, month_start, person_id, record_id
    from obs
    where {{ in_query_result('kpi_id', 'select kpi_id from count_kpis where not records_are_distinct') }}
),

-- Each record counts once per period in every segment any of its records counts in.
agg_distinct as (
    {{ kpi_count_distinct_by_segment('repeated_records', 'record_id', 'n_distinct') }}
),

-- The people behind each value (DESIGN.md section 8, people_affected): distinct subjects (a
-- ticket's requester, a visit's visitor, else the person) per period, counted in a segment when
-- any of their records counts there, like the distinct count KPIs above.
subject_records as (
    select kpi_id, month_start, person_id, subject_id from obs where subject_id is not null
),

agg_people as (
    {{ kpi_count_distinct_by_segment('subject_records', 'subject_id', 'people') }}
),

-- Medians need every value.
median_values as (
    select o.kpi_id, o.month_start, o.x, 'all' as segment_id
    from obs as o
    join catalog as c on c.kpi_id = o.kpi_id and c.aggregation = 'median'
    union all
    select o.kpi_id, o.month_start, o.x, m.segment_id
    from obs as o
    join catalog as c on c.kpi_id = o.kpi_id and c.aggregation = 'median'
    join membership as m
      on m.person_id = o.person_id
     and m.month_start = o.month_start
),

agg_median as (
    select
        case when month_start is null then 'quarter' else 'month' end as period_grain,
        coalesce(month_start, quarter_start) as period_start,
        kpi_id, segment_id,
        {{ quantile("x", 0.5) }} as median_x
    from (select *, date_trunc('quarter', month_start)::date as quarter_start
          from median_values)
    {{ kpi_by_month_and_quarter('kpi_id, segment_id') }}
),

agg as (
    select
        a.*,
        a.sum_x / nullif(a.n_x, 0) as mean_x,
        case when a.n_x > 1
             then sqrt(greatest(0.0, (a.sum_x2 - a.sum_x * a.sum_x / a.n_x) / (a.n_x - 1)))
        end as sd_x,
        case when k.records_are_distinct then a.n_records else d.n_distinct end as n_distinct,
        m.median_x,
        p.people
    from agg_algebraic as a
    left join count_kpis as k using (kpi_id)
    left join agg_distinct as d using (period_grain, period_start, kpi_id, segment_id)
    left join agg_median as m using (period_grain, period_start, kpi_id, segment_id)
    left join agg_people as p using (period_grain, period_start, kpi_id, segment_id)
),

bounds as (
    select min(month_start) as first_month, max(month_start) as last_month from agg_all
),

months as (
    select {{ explode_list(month_starts('bounds.first_month', 'bounds.last_month')) }} as month_start
    from bounds
),

periods as (
    select 'month' as period_grain, month_start as period_start,
           (month_start + interval 1 month - interval 1 day)::date as period_end
    from months
    union
    select 'quarter', date_trunc('quarter', month_start)::date,
           (date_trunc('quarter', month_start) + interval 3 month - interval 1 day)::date
    from months
),

period_segments as (
    select p.period_grain, p.period_start, p.period_end, 'all' as segment_id
    from periods as p
    union
    select p.period_grain, p.period_start, p.period_end, s.segment_id
    from periods as p
    join segment_versions as s
      on s.active_from <= p.period_end
     and (s.active_to is null or s.active_to >= p.period_start)
),

-- Every period and segment of each KPI whose sources are available (DESIGN.md section 3): a
-- KPI of a source that is not configured is absent rather than 0; one whose source is there
-- without any record of it yet (no events-programme course, no rated ticket) has n = 0 and
-- is suppressed (insufficient_data in the scorecard).
available_kpis as (
    {{ available_kpi_ids() }}
),

grid as (
    select ps.*, c.kpi_id, c.aggregation
    from period_segments as ps
    cross join catalog as c
    where c.kpi_id in (select kpi_id from available_kpis)
),

measured as (
    select
        g.period_grain, g.period_start, g.period_end, g.kpi_id, g.segment_id, g.aggregation,
        a.promoters, a.detractors, a.sd_x, coalesce(a.people, 0) as people,
        case g.aggregation
            when 'count' then coalesce(a.n_distinct, 0)
            when 'rate' then coalesce(a.den, 0)
            else coalesce(a.n_x, 0)
        end::bigint as n,
        case g.aggregation
            when 'count' then coalesce(a.n_distinct, 0)
            when 'rate' then coalesce(a.num, 0)
            when 'mean' then a.sum_x
            when 'nps' then a.promoters - a.detractors
        end::double as numerator,
        case g.aggregation
            when 'rate' then coalesce(a.den, 0)
            when 'mean' then a.n_x
            when 'nps' then a.n_x
        end::double as denominator,
        case g.aggregation
            when 'count' then coalesce(a.n_distinct, 0)
            when 'rate' then case when a.den > 0 then least(a.num, a.den) / a.den end
            when 'median' then a.median_x
            when 'mean' then a.mean_x
            when 'nps' then {{ kpi_nps('a.promoters', 'a.detractors', 'a.n_x') }}
        end::double as raw_value,
        case g.aggregation
            when 'rate' then {{ kpi_wilson_low('a.num', 'a.den') }}
            when 'mean' then {{ kpi_mean_ci('a.mean_x', 'a.sd_x', 'a.n_x', '-') }}
            when 'nps' then {{ kpi_nps_ci_low('a.promoters', 'a.detractors', 'a.n_x') }}
        end::double as raw_ci_low,
        case g.aggregation
            when 'rate' then {{ kpi_wilson_high('a.num', 'a.den') }}
            when 'mean' then {{ kpi_mean_ci('a.mean_x', 'a.sd_x', 'a.n_x', '+') }}
            when 'nps' then {{ kpi_nps_ci_high('a.promoters', 'a.detractors', 'a.n_x') }}
        end::double as raw_ci_high
    from grid as g
    left join agg as a
      on a.period_grain = g.period_grain
     and a.period_start = g.period_start
     and a.kpi_id = g.kpi_id
     and a.segment_id = g.segment_id
),

final as (
    select
        *,
        {{ kpi_reliability('n') }} as reliability
    from measured
)

select
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    cast(kpi_id as {{ dbt.type_string() }}) as kpi_id,
    cast(segment_id as {{ dbt.type_string() }}) as segment_id,
    cast(case when reliability = 'suppressed' then null else raw_value end as double) as value,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator,
    cast(n as bigint) as n,
    cast(case when reliability = 'suppressed' then null else round(raw_ci_low, 10) end as double) as ci_low,
    cast(case when reliability = 'suppressed' then null else round(raw_ci_high, 10) end as double) as ci_high,
    cast(reliability as {{ dbt.type_string() }}) as reliability,
    cast(people as bigint) as people
from final
