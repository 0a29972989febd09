{{ config(materialized='incremental', incremental_strategy='delete+insert',
          unique_key='month_start', on_schema_change='fail') }}
-- Page views, entries (landing page) and exits per local month and page (URL path).
with visits as (
    select visit_id, visit_month, landing_page, exit_page
    from {{ ref('fct_web_visits') }}
    where {{ period_filter('visit_date') }}
),

views as (
    select v.visit_month, a.page, count(*) as pageviews
    from {{ ref('stg_matomo__visit_actions') }} as a
    join visits as v using (visit_id)
    where a.action_type = 'action'
    group by 1, 2
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
from views
left join entries using (visit_month, page)
left join exits using (visit_month, page)
