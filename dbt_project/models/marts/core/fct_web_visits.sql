{{ config(materialized='incremental', incremental_strategy='delete+insert',
          unique_key='visit_month', on_schema_change='fail') }}
-- Incremental by local month: a run with vars period_start/period_end rebuilds only that
-- period; without them every month is rebuilt.
with visits as (
    select * from {{ ref('stg_matomo__visits') }}
    where {{ period_filter('visit_date') }}
),

actions as (
    select a.*
    from {{ ref('stg_matomo__visit_actions') }} as a
    semi join visits as v using (visit_id)
),

per_visit as (
    select
        visit_id,
        count(*) filter (where action_type = 'action') as pageviews,
        arg_min(page, action_index) filter (where action_type = 'action') as landing_page,
        arg_max(page, action_index) filter (where action_type = 'action') as exit_page,
        count(*) filter (where event_category = 'classified_ad' and event_action = 'view')
            as ad_views,
        count(*) filter (where event_category = 'classified_ad' and event_action = 'click')
            as ad_clicks,
        count(*) filter (where event_category = 'classified_ad'
                          and event_action = 'contact_seller') as seller_contacts,
        count(*) filter (where event_category = 'listing'
                          and event_action = 'ad_post_completed') as ads_posted
    from actions
    group by 1
)

select
    v.visit_id,
    v.visitor_id,
    v.person_id,
    v.visit_date,
    date_trunc('month', v.visit_date)::date as visit_month,
    v.channel,
    v.device_type,
    v.visitor_type = 'returning' as is_returning,
    coalesce(p.pageviews, 0) as pageviews,
    v.actions,
    v.actions = 1 as is_bounce,
    v.duration_seconds,
    p.landing_page,
    p.exit_page,
    coalesce(p.ad_views, 0) as ad_views,
    coalesce(p.ad_clicks, 0) as ad_clicks,
    coalesce(p.seller_contacts, 0) as seller_contacts,
    coalesce(p.ads_posted, 0) as ads_posted,
    coalesce(p.seller_contacts, 0) > 0 or coalesce(p.ads_posted, 0) > 0 as is_converted
from visits as v
left join per_visit as p using (visit_id)
