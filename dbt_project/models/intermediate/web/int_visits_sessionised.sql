{{ config(materialized='incremental', incremental_strategy='delete+insert',
          unique_key='visit_month', on_schema_change='fail',
          pre_hook="{{ delete_period('visit_date') }}") }}
-- One row per Matomo visit with its action measures (DESIGN.md section 6, web):
-- page views (type action) in order, landing page = first page view, exit page = last (URL path
-- without query string, fragment or trailing slash), classified-ad and listing event counts,
-- bounce (actions = 1) and conversion (contact_seller or ad_post_completed).
-- Incremental by local month (vars period_start / period_end): a monthly run parses only that
-- month's actions; the marts read their month from here.
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
        list(page order by action_index) filter (where action_type = 'action') as page_views,
        count(*) filter (where event_category = 'classified_ad' and event_action = 'view')
            as ad_views,
        count(*) filter (where event_category = 'classified_ad' and event_action = 'click')
            as ad_clicks,
        count(*) filter (where event_category = 'classified_ad'
                          and event_action = 'contact_seller') as seller_contacts,
        count(*) filter (where event_category = 'listing'
                          and event_action = 'ad_post_started') as ad_posts_started,
        count(*) filter (where event_category = 'listing'
                          and event_action = 'ad_post_completed') as ads_posted,
        count(*) filter (where event_category = 'listing'
                          and event_action = 'payment_started') as payments_started,
        count(*) filter (where event_category = 'listing'
                          and event_action = 'payment_completed') as payments_completed
    from actions
    group by 1
)

select
    v.visit_id,
    v.visitor_id,
    v.person_id,
    v.first_action_at,
    v.visit_date,
    v.visit_month,
    v.channel,
    v.device_type,
    v.visitor_type,
    v.visitor_type = 'returning' as is_returning,
    v.actions,
    v.actions = 1 as is_bounce,
    v.duration_seconds,
    coalesce(p.pageviews, 0) as pageviews,
    coalesce(p.page_views, []::varchar[]) as page_views,
    p.page_views[1] as landing_page,
    p.page_views[-1] as exit_page,
    coalesce(p.ad_views, 0) as ad_views,
    coalesce(p.ad_clicks, 0) as ad_clicks,
    coalesce(p.seller_contacts, 0) as seller_contacts,
    coalesce(p.ad_posts_started, 0) as ad_posts_started,
    coalesce(p.ads_posted, 0) as ads_posted,
    coalesce(p.payments_started, 0) as payments_started,
    coalesce(p.payments_completed, 0) as payments_completed,
    coalesce(p.seller_contacts, 0) > 0 or coalesce(p.ads_posted, 0) > 0 as is_converted
from visits as v
left join per_visit as p using (visit_id)
