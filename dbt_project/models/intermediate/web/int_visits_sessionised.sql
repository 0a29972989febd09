{{ config(materialized='view') }}
-- One row per Matomo visit with its action measures (DESIGN.md section 6, web):
-- page views (type action) in order, landing page = first page view, exit page = last (URL path
-- without query string, fragment or trailing slash), classified-ad and listing event counts,
-- bounce (actions = 1) and conversion (contact_seller or ad_post_completed).
-- Measures are list functions over the visit's own typed action list: no unnest, no join.
-- A view: fct_web_visits and agg_web_pages_monthly each read their period from it (the filter
-- reaches stg_matomo__visits), so the measures are computed where they are stored rather than
-- written to a table of their own first.
{%- set events = {
    'ad_views': ('classified_ad', 'view'),
    'ad_clicks': ('classified_ad', 'click'),
    'seller_contacts': ('classified_ad', 'contact_seller'),
    'ad_posts_started': ('listing', 'ad_post_started'),
    'ads_posted': ('listing', 'ad_post_completed'),
    'payments_started': ('listing', 'payment_started'),
    'payments_completed': ('listing', 'payment_completed'),
} %}
with visits as (
    select
        *,
        {{ list_map(list_where('action_details', 'a', "a.action_type = 'action'"), 'a', 'a.page') }}
            as page_views
    from {{ ref('stg_matomo__visits') }}
),

measured as (
    select
        *,
        {%- for name, (category, action) in events.items() %}
        {{ list_size(list_where('action_details', 'a', "a.event_category = '" ~ category ~ "'
                                                 and a.event_action = '" ~ action ~ "'")) }}
            as {{ name }},
        {%- endfor %}
        {{ list_size('page_views') }} as pageviews
    from visits
)

select
    visit_id,
    visitor_id,
    person_id,
    first_action_at,
    visit_date,
    visit_month,
    channel,
    device_type,
    visitor_type,
    visitor_type = 'returning' as is_returning,
    actions,
    actions = 1 as is_bounce,
    duration_seconds,
    pageviews,
    page_views,
    {{ list_first('page_views') }} as landing_page,
    {{ list_last('page_views') }} as exit_page,
    {%- for name in events %}
    {{ name }},
    {%- endfor %}
    seller_contacts > 0 or ads_posted > 0 as is_converted
from measured
