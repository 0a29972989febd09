{{ config(materialized='incremental', tags=['period'], incremental_strategy=period_incremental_strategy(),
          unique_key='month_start', on_schema_change='fail',
          pre_hook="{{ delete_period('month_start') }}") }}
-- Per local month and channel, plus channel 'all'. Visitor counts are distinct over the whole
-- month (never a sum of days or channels). Incremental by month like fct_web_visits.
with visits as (
    select * from {{ ref('fct_web_visits') }}
    where {{ period_filter('visit_date') }}
)

select
    visit_month as month_start,
    case when grouping(channel) = 1 then 'all' else coalesce(channel, 'unknown') end as channel,
    count(distinct visit_id) as visits,
    count(distinct visitor_id) as unique_visitors,
    count(distinct visitor_id) filter (where is_returning) as returning_visitors,
    sum(pageviews)::bigint as pageviews,
    sum(pageviews) / count(distinct visit_id) as pages_per_visit,
    count(*) filter (where is_bounce) as bounces,
    avg(is_bounce::int) as bounce_rate,
    avg(duration_seconds) as avg_time_on_site_seconds,
    sum(ad_views)::bigint as ad_views,
    sum(ad_clicks)::bigint as ad_clicks,
    sum(ad_clicks) / nullif(sum(ad_views), 0) as ad_ctr,
    count(*) filter (where is_converted) as converted_visits,
    avg(is_converted::int) as conversion_rate
from visits
group by grouping sets ((visit_month, channel), (visit_month))
