-- One row per SayPro person id seen in any source: signup = earliest appearance; attributes
-- from the latest registration; premium from the Zendesk user tag.
with appearances as (
    select person_id, created_at as seen_at from {{ ref('stg_zendesk__users') }}
    union all
    select person_id, first_action_at from {{ ref('stg_matomo__visits') }}
    union all
    select person_id, coalesce(first_access_at, course_start_at)
    from {{ ref('stg_moodle__enrolments') }}
    left join (select course_id, start_at as course_start_at from {{ ref('stg_moodle__courses') }})
        using (course_id)
    union all
    select person_id, submitted_at from {{ ref('stg_kobo__registrations') }}
    union all
    select person_id, submitted_at from {{ ref('stg_kobo__feedback_responses') }}
),

people as (
    select person_id, min(seen_at) as first_seen_at
    from appearances where person_id is not null group by 1
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
    {{ local_date('p.first_seen_at') }} as signup_date,
    r.province, r.settlement_type, r.age_band, r.gender, r.employment_status,
    r.is_single_parent,
    coalesce(pr.is_premium, false) as is_premium
from people as p
left join latest_registration as r using (person_id)
left join premium as pr using (person_id)
