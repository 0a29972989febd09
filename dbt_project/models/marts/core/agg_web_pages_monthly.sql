{{ config(materialized='incremental', tags=['period'], incremental_strategy=period_incremental_strategy(),
          unique_key='month_start', on_schema_change='fail',
          pre_hook="{{ delete_period('month_start') }}") }}
-- Page views, entries (visits landing on the page) and exits (visits leaving from it) per local
-- month and page URL (a page view without a URL is in its visit's page views only). Incremental by
-- month like fct_web_visits.
with visits as (
    select visit_id, visit_month, page_views, landing_page, exit_page
    from {{ ref('int_visits_sessionised') }}
    where {{ period_filter('visit_date') }}
),

views as (
    select visit_month, {{ explode_list("page_views") }} as page from visits
),

pages as (
    select visit_month, page, count(*) as pageviews from views where page is not null group by 1, 2
),

entries as (
    select visit_month, landing_page as page, count(*) as entries
    from visits where landing_page is not null group by 1, 2
),

exits as (
    select visit_month, exit_page as page, count(*) as exits
    from visits where exit_page is not null group by 1, 2
)

select
    visit_month as month_start, page, pageviews,
    coalesce(entries, 0) as entries, coalesce(exits, 0) as exits
from pages
left join entries using (visit_month, page)
left join exits using (visit_month, page)
