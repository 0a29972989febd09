-- priority_rank is 1..k over each period's missed and at_risk gaps, never on insufficient data.
with ranked as (
    select period_grain, period_start,
           count(*) filter (where status in ('missed', 'at_risk')) as gaps,
           count(priority_rank) as ranks,
           count(distinct priority_rank) as distinct_ranks,
           coalesce(max(priority_rank), 0) as max_rank,
           count(*) filter (where status = 'insufficient_data' and priority_rank is not null) as ranked_insufficient,
           count(*) filter (where (status = 'insufficient_data') <> (reliability = 'suppressed')) as status_mismatch
    from {{ ref('kpi_scorecard') }}
    group by 1, 2
)
select * from ranked
where gaps <> ranks or ranks <> distinct_ranks or max_rank <> ranks
   or ranked_insufficient > 0 or status_mismatch > 0
