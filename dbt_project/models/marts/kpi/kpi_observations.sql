{{ config(materialized=reread_materialization(), contract={'enforced': false}) }}
-- Record-level KPI observations in one long relation, so that every KPI is aggregated the same
-- way per period and segment in kpi_values. One row per (KPI, record) that belongs to the KPI:
--   month_start  local month of the record's anchor date (DESIGN.md section 6)
--   person_id    the record's person (NULL = counts only in segment `all`)
--   record_id    what a count KPI counts distinctly (ticket, visit, visitor, learner: the
--                person, else the Moodle account)
--   subject_id   who the record is about, for people_affected (DESIGN.md section 8): the
--                requester of a ticket, the visitor of a visit, else the person; an anonymous
--                response is one subject of its own, a learner without a person their Moodle
--                account
--   num, den     numerator / denominator contributions of rate KPIs
--   x            the value of median / mean / NPS KPIs
-- It reads the core marts (the facts as published), so it belongs to the marts layer; it is
-- ephemeral, a part of kpi_values, its only reader: kpi_values aggregates it straight from the
-- facts rather than writing seven rows per visit to a table first, and it is neither exported
-- nor a contract of its own. The fact CTEs are not materialised: each branch scans only the
-- columns it needs.
{% set employed = "('employed', 'self_employed', 'informal_trader')" %}

with tickets as {{ not_materialized() }} (
    select * from {{ ref('fct_tickets') }}
),

visits as {{ not_materialized() }} (
    select *, date_trunc('month', visit_date)::date as month_start from {{ ref('fct_web_visits') }}
),

enrolments as {{ not_materialized() }} (
    select * from {{ ref('fct_enrolments') }}
),

feedback as {{ not_materialized() }} (
    select *, {{ local_month('submitted_at') }} as month_start
    from {{ ref('fct_survey_responses') }}
    where form = 'feedback'
),

people as {{ not_materialized() }} (
    select * from {{ ref('dim_person') }}
),

first_ads as (
    select person_id, min(action_date) as first_ad_date
    from {{ ref('int_kpi_listing_events') }}
    where event_action = 'ad_post_completed'
    group by 1
),

obs as (
    -- support
    select 'ticket_volume' as kpi_id, created_month as month_start, person_id, ticket_id as record_id,
           null::double as num, null::double as den, null::double as x,
           'requester:' || coalesce(requester_id::{{ dbt.type_string() }}, 'ticket:' || ticket_id) as subject_id
    from tickets
    union all
    select 'first_reply_median_minutes', created_month, person_id, ticket_id, null, null, first_reply_minutes,
           'requester:' || coalesce(requester_id::{{ dbt.type_string() }}, 'ticket:' || ticket_id)
    from tickets where first_reply_minutes is not null
    union all
    select 'frt_sla_compliance', created_month, person_id, ticket_id,
           (frt_sla_status = 'met')::int, 1, null,
           'requester:' || coalesce(requester_id::{{ dbt.type_string() }}, 'ticket:' || ticket_id)
    from tickets where frt_sla_status in ('met', 'breached')
    union all
    select 'resolution_sla_compliance', created_month, person_id, ticket_id,
           (resolution_sla_status = 'met')::int, 1, null,
           'requester:' || coalesce(requester_id::{{ dbt.type_string() }}, 'ticket:' || ticket_id)
    from tickets where resolution_sla_status in ('met', 'breached')
    union all
    select 'reopen_rate', created_month, person_id, ticket_id, (coalesce(reopen_count, 0) > 0)::int, 1, null,
           'requester:' || coalesce(requester_id::{{ dbt.type_string() }}, 'ticket:' || ticket_id)
    from tickets where first_resolution_minutes is not null
    union all
    select 'ticket_csat', created_month, person_id, ticket_id, (csat_rating = 'good')::int, 1, null,
           'requester:' || coalesce(requester_id::{{ dbt.type_string() }}, 'ticket:' || ticket_id)
    from tickets where csat_rating in ('good', 'bad')

    -- web
    union all
    select 'visits', month_start, person_id, visit_id, null, null, null,
           'visitor:' || coalesce(visitor_id, 'visit:' || visit_id) from visits
    union all
    select 'unique_visitors', month_start, person_id, visitor_id, null, null, null,
           'visitor:' || coalesce(visitor_id, 'visit:' || visit_id) from visits
    union all
    select 'bounce_rate', month_start, person_id, visit_id, is_bounce::int, 1, null,
           'visitor:' || coalesce(visitor_id, 'visit:' || visit_id) from visits
    union all
    select 'pages_per_visit', month_start, person_id, visit_id, null, null, coalesce(pageviews, 0),
           'visitor:' || coalesce(visitor_id, 'visit:' || visit_id) from visits
    union all
    select 'avg_time_on_site_seconds', month_start, person_id, visit_id, null, null, duration_seconds,
           'visitor:' || coalesce(visitor_id, 'visit:' || visit_id)
    from visits where duration_seconds is not null
    union all
    select 'ad_ctr', month_start, person_id, visit_id, coalesce(ad_clicks, 0), coalesce(ad_views, 0),
           null, 'visitor:' || coalesce(visitor_id, 'visit:' || visit_id)
    from visits where coalesce(ad_views, 0) > 0 or coalesce(ad_clicks, 0) > 0
    union all
    select 'conversion_rate', month_start, person_id, visit_id, is_converted::int, 1, null,
           'visitor:' || coalesce(visitor_id, 'visit:' || visit_id) from visits
    union all
    select 'first_ad_success_rate', date_trunc('month', p.signup_date)::date, p.person_id, p.person_id,
           (f.first_ad_date is not null
            and f.first_ad_date >= p.signup_date
            and f.first_ad_date <= p.signup_date + 30)::int, 1, null,
           'person:' || p.person_id
    from people as p
    left join first_ads as f on f.person_id = p.person_id
    where p.signup_date is not null

    -- learning
    union all
    select 'course_completion_rate', cohort_month, person_id, course_id || ':' || person_id,
           coalesce(is_completed, false)::int, 1, null,
           coalesce('person:' || person_id, 'moodle_user:' || user_id)
    from enrolments where programme = 'course'
    union all
    select 'event_attendance_rate', cohort_month, person_id, course_id || ':' || person_id,
           coalesce(is_completed, false)::int, 1, null,
           coalesce('person:' || person_id, 'moodle_user:' || user_id)
    from enrolments where programme = 'events'
    union all
    select 'pass_rate', cohort_month, person_id, course_id || ':' || person_id, is_passed::int, 1, null,
           coalesce('person:' || person_id, 'moodle_user:' || user_id)
    from enrolments where programme = 'course'
    union all
    select 'active_learners', {{ local_month('last_access_at') }}, person_id,
           coalesce(person_id, 'moodle_user:' || user_id), null, null, null,
           coalesce('person:' || person_id, 'moodle_user:' || user_id)
    from enrolments where last_access_at is not null

    -- surveys (feedback form; n = responses that answered the question)
    union all
    select 'nps', month_start, person_id, response_id, null, null, nps_score,
           coalesce('person:' || person_id, 'response:' || response_id)
    from feedback where nps_score is not null
    union all
    select 'survey_csat', month_start, person_id, response_id, (csat_score >= 4)::int, 1, null,
           coalesce('person:' || person_id, 'response:' || response_id)
    from feedback where csat_score is not null
    union all
    select 'employment_outcome_rate', month_start, person_id, response_id,
           (employment_status in {{ employed }})::int, 1, null,
           coalesce('person:' || person_id, 'response:' || response_id)
    from feedback where employment_status is not null
    union all
    select 'negative_comment_share', month_start, person_id, response_id,
           (sentiment_label = 'negative')::int, 1, null,
           coalesce('person:' || person_id, 'response:' || response_id)
    from feedback where sentiment_label is not null
),

-- KPIs whose sources are all available (macros/kpi/catalog.sql): first_ad_success_rate would
-- otherwise be 0 for people known from Moodle alone when Matomo is not configured.
available_kpis as (
    {{ available_kpi_ids() }}
)

select
    cast(kpi_id as {{ dbt.type_string() }}) as kpi_id,
    cast(month_start as date) as month_start,
    cast(person_id as {{ dbt.type_string() }}) as person_id,
    cast(record_id as {{ dbt.type_string() }}) as record_id,
    cast(num as double) as num,
    cast(den as double) as den,
    cast(x as double) as x,
    cast(subject_id as {{ dbt.type_string() }}) as subject_id
from obs
where month_start is not null
  and kpi_id in (select kpi_id from available_kpis)
