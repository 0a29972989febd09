{{ config(materialized='incremental', tags=['period'], incremental_strategy=period_incremental_strategy(),
          unique_key='visit_month', on_schema_change='fail',
          pre_hook="{{ delete_period('visit_date') }}") }}
-- Incremental by local month (delete+insert on visit_month): a run with vars period_start /
-- period_end (inclusive / exclusive, YYYY-MM-DD) rebuilds only that period; without them every
-- month is rebuilt. Visits do not change once landed in their month, so a month rebuild equals
-- a full build.
select
    visit_id, visitor_id, person_id, visit_date, visit_month, channel, device_type,
    is_returning, pageviews, actions, is_bounce, duration_seconds, landing_page, exit_page,
    ad_views, ad_clicks, seller_contacts, ad_posts_started, ads_posted, payments_started,
    payments_completed, is_converted
from {{ ref('int_visits_sessionised') }}
where {{ period_filter('visit_date') }}
