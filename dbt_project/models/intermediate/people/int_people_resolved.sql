-- One row per SayPro person id seen in any source (Zendesk external_id, Matomo userId, Moodle
-- idnumber, Kobo beneficiary_id). signup_date = local date of the earliest appearance in any
-- source (Zendesk user created or first ticket requested, whichever is first: a helpdesk may
-- hold tickets older than its user record, e.g. users imported later; first Matomo visit,
-- first Moodle access or else the course start, first Kobo submission); attributes from the
-- latest registration response (latest _submission_time, then highest _id); is_premium = any
-- Zendesk user of the person tagged premium.
with appearances as (
    select person_id, created_at as seen_at, 'zendesk' as source
    from {{ ref('stg_zendesk__users') }}
    union all
    select u.person_id, t.created_at, 'zendesk'
    from {{ ref('stg_zendesk__tickets') }} as t
    join {{ ref('stg_zendesk__users') }} as u on u.user_id = t.requester_id
    union all
    select person_id, first_action_at, 'matomo' from {{ ref('stg_matomo__visits') }}
    union all
    select e.person_id, coalesce(e.first_access_at, c.start_at), 'moodle'
    from {{ ref('stg_moodle__enrolments') }} as e
    left join {{ ref('stg_moodle__courses') }} as c using (course_id)
    union all
    select person_id, submitted_at, 'kobo' from {{ ref('stg_kobo__registrations') }}
    union all
    select person_id, submitted_at, 'kobo' from {{ ref('stg_kobo__feedback_responses') }}
),

people as (
    select
        person_id,
        min(seen_at) as first_seen_at,
        bool_or(source = 'zendesk') as in_zendesk,
        bool_or(source = 'matomo') as in_matomo,
        bool_or(source = 'moodle') as in_moodle,
        bool_or(source = 'kobo') as in_kobo
    from appearances
    where person_id is not null
    group by 1
),

latest_registration as (
    select * from {{ ref('stg_kobo__registrations') }}
    where person_id is not null
    qualify row_number() over (partition by person_id
                               order by submitted_at desc, response_id desc) = 1
),

premium as (
    select person_id, bool_or(is_premium) as is_premium
    from {{ ref('stg_zendesk__users') }} where person_id is not null group by 1
)

select
    p.person_id,
    p.first_seen_at,
    {{ local_date('p.first_seen_at') }} as signup_date,
    {{ local_month('p.first_seen_at') }} as signup_month,
    r.province,
    r.settlement_type,
    r.age_band,
    r.gender,
    r.employment_status,
    r.is_single_parent,
    r.language,
    r.submitted_at as registered_at,
    coalesce(pr.is_premium, false) as is_premium,
    p.in_zendesk, p.in_matomo, p.in_moodle, p.in_kobo
from people as p
left join latest_registration as r using (person_id)
left join premium as pr using (person_id)
