-- Listing events (ad posting and payment funnel) per person with their timestamps,
-- from the Matomo action stream. One row per event action of a known person.
with listing_actions as (
    select
        visit_id,
        person_id,
        {{ explode_list(list_where('action_details', 'a', "a.event_category = 'listing'
            and a.event_action in ('ad_post_started', 'ad_post_completed', 'payment_started',
                                   'payment_completed')
            and a.action_at is not null")) }} as a
    from {{ ref('stg_matomo__visits') }}
    where person_id is not null
)

select
    visit_id,
    person_id,
    a.event_action,
    a.action_at,
    {{ local_date('a.action_at') }} as action_date,
    {{ local_month('a.action_at') }} as month_start
from listing_actions
