-- Listing events (ad posting and payment funnel) per person with their timestamps,
-- from the Matomo action stream. One row per event action of a known person.
select
    a.visit_id,
    a.person_id,
    a.event_action,
    a.action_at,
    {{ local_date('a.action_at') }} as action_date,
    {{ local_month('a.action_at') }} as month_start
from {{ ref('stg_matomo__visit_actions') }} as a
where a.event_category = 'listing'
  and a.event_action in ('ad_post_started', 'ad_post_completed', 'payment_started', 'payment_completed')
  and a.person_id is not null
  and a.action_at is not null
