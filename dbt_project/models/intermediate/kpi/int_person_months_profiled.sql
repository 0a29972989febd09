-- Person x local month attributes that segment rules (seeds/segments.csv) are written against.
-- One row per person and month from the person's signup month (or their first course's start,
-- if earlier) to the last month with data:
-- the month of any KPI record's anchor (a ticket, a visit, a course start, a survey answer, a
-- signup, and a learner's last course access, the anchor of active_learners).
-- Demographics are those of the person's latest registration submitted up to the month's end
-- (so a person who moves province changes segment from that month), falling back to the
-- person's own (int_people_resolved, as dim_person). Only intermediate and staging models are
-- read: the intermediate layer never reads marts.
{% set tz = local_timezone() %}

with people as (
    select * from {{ ref('int_people_resolved') }}
),

-- Each registration holds from the local month it was submitted in until the month of the
-- person's next one (ties in time broken by response id): the latest registration submitted
-- before a month ends is then the one whose span holds the month, a plain range join.
registrations as (
    select
        person_id,
        date_trunc('month', {{ to_local_time(tz, 'submitted_at') }})::date as valid_from,
        lead(date_trunc('month', {{ to_local_time(tz, 'submitted_at') }})::date) over (
            partition by person_id order by submitted_at, response_id) as valid_to,
        province, settlement_type, age_band, gender, employment_status, is_single_parent
    from {{ ref('stg_kobo__registrations') }}
    where person_id is not null
),

tickets as (
    select person_id, {{ local_month('created_at') }} as month_start, category
    from {{ ref('int_tickets_measured') }}
    where person_id is not null
),

listing as (
    select * from {{ ref('int_kpi_listing_events') }}
),

data_months as (
    select {{ local_month('created_at') }} as m from {{ ref('int_tickets_measured') }}
    union all select visit_month from {{ ref('stg_matomo__visits') }}
    union all select cohort_month from {{ ref('int_enrolments_joined') }}
    union all select last_access_month from {{ ref('int_enrolments_joined') }}
    union all select {{ local_month('submitted_at') }} from {{ ref('int_survey_responses_classified') }}
    union all select date_trunc('month', signup_date)::date from people
),

bounds as (
    select min(m) as first_month, max(m) as last_month from data_months where m is not null
),

months as (
    select {{ explode_list(month_starts('bounds.first_month', 'bounds.last_month')) }} as month_start
    from bounds
),

-- A learner's enrolment is a record of its course's start month (cohort_month), which can
-- come before the learner's first access, their signup: their months start at the earlier.
first_cohorts as (
    select person_id, min(cohort_month) as first_cohort_month
    from {{ ref('int_enrolments_joined') }}
    where person_id is not null
    group by 1
),

person_months as (
    select p.person_id, m.month_start
    from people as p
    cross join bounds as b
    left join first_cohorts as c on c.person_id = p.person_id
    join months as m
      on m.month_start >= coalesce(
             least(date_trunc('month', p.signup_date)::date, c.first_cohort_month),
             b.first_month)
),

-- The person's latest registration submitted before the month ends (local time).
latest_registration as (
    select
        pm.person_id,
        pm.month_start,
        r.province, r.settlement_type, r.age_band, r.gender, r.employment_status, r.is_single_parent
    from person_months as pm
    join registrations as r
      on r.person_id = pm.person_id
     and r.valid_from <= pm.month_start
     and (r.valid_to is null or pm.month_start < r.valid_to)
),

tickets_by_month as (
    select
        person_id,
        month_start,
        count(*) as tickets_in_month,
        count(*) filter (where category = 'Technical Support') as technical_tickets_in_month,
        count(*) filter (where category = 'Billing and Payment') as billing_tickets_in_month
    from tickets
    group by 1, 2
),

ads_by_month as (
    select person_id, month_start, count(*) as ads_completed_in_month
    from listing
    where event_action = 'ad_post_completed'
    group by 1, 2
),

-- A start without its completion (same person, at or after the start, within 7 days).
-- Starts younger than 7 days at the data cut-off are still pending, not incomplete.
cutoff as (
    select coalesce(
        {% set cut_off = run_setting('as_of') %}{% if cut_off %}cast('{{ cut_off }}' as {{ type_instant() }}){% else %}null{% endif %},
        (select max(action_at) from listing)) as cutoff_at
),

incomplete as (
    select s.person_id, s.month_start, count(*) as incomplete_actions_in_month
    from listing as s
    cross join cutoff
    where s.event_action in ('ad_post_started', 'payment_started')
      and s.action_at + interval 7 day <= cutoff.cutoff_at
      and not exists (
          select 1 from listing as c
          where c.person_id = s.person_id
            and c.event_action = replace(s.event_action, '_started', '_completed')
            and c.action_at >= s.action_at
            and c.action_at <= s.action_at + interval 7 day
      )
    group by 1, 2
)

select
    pm.month_start,
    pm.person_id,
    coalesce(lr.province, p.province) as province,
    coalesce(lr.settlement_type, p.settlement_type) as settlement_type,
    coalesce(lr.age_band, p.age_band) as age_band,
    coalesce(lr.gender, p.gender) as gender,
    coalesce(lr.employment_status, p.employment_status) as employment_status,
    coalesce(lr.is_single_parent, p.is_single_parent, false) as is_single_parent,
    coalesce(p.is_premium, false) as is_premium,
    p.signup_date,
    date_trunc('month', p.signup_date)::date as signup_month,
    coalesce(date_trunc('month', p.signup_date)::date = pm.month_start, false) as is_new_user,
    {{ months_between_starts("date_trunc('month', p.signup_date)::date", 'pm.month_start') }} as months_since_signup,
    coalesce(sum(a.ads_completed_in_month) over (
        partition by pm.person_id order by pm.month_start
        rows between unbounded preceding and current row), 0)::integer as ads_completed_to_date,
    coalesce(a.ads_completed_in_month, 0)::integer as ads_completed_in_month,
    coalesce(t.tickets_in_month, 0)::integer as tickets_in_month,
    coalesce(t.technical_tickets_in_month, 0)::integer as technical_tickets_in_month,
    coalesce(t.billing_tickets_in_month, 0)::integer as billing_tickets_in_month,
    coalesce(i.incomplete_actions_in_month, 0)::integer as incomplete_actions_in_month
from person_months as pm
join people as p on p.person_id = pm.person_id
left join latest_registration as lr on lr.person_id = pm.person_id and lr.month_start = pm.month_start
left join tickets_by_month as t on t.person_id = pm.person_id and t.month_start = pm.month_start
left join ads_by_month as a on a.person_id = pm.person_id and a.month_start = pm.month_start
left join incomplete as i on i.person_id = pm.person_id and i.month_start = pm.month_start
