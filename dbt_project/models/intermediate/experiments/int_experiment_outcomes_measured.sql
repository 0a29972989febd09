-- One row per experiment, unit (multi-variant units left out) and metric of the experiment
-- (its primary metric and guardrails; DESIGN.md section 11): the unit's numerator and
-- denominator over its window, from its first exposure up to 30 days later or the end of the
-- local day end_date + 30, whichever comes first.
--   visit_conversion      1 if a visit of the unit in the window converted (DESIGN.md section 6)
--   ad_ctr                classified-ad clicks / ad views of those visits (a ratio metric)
--   registration_30d      1 if the unit's person submitted a KoboToolbox registration
--   enrolment_30d         1 if the person is a student of a Moodle course starting in the window
--                         (Moodle's enrolled-users list has no enrolment date: the course start
--                         is the enrolment's anchor, as in DESIGN.md section 6)
--   completion_30d        1 if the person completed a Moodle course (programme course, as the
--                         course_completion_rate KPI) in the window: completionstatus.completed
--                         with its completed_at (the latest criterion timecompleted, as staged)
--                         in the window; a completion without a time cannot be placed and
--                         does not count
--   tickets_per_unit_30d  Zendesk tickets the person created
-- A visitor unit's visits are those of its visitorId, a person unit's those with its userId.
-- The person metrics use the unit's person (int_experiment_exposures.person_id): a visitor who
-- never logged in has none, so it counts with 0 registrations, enrolments and tickets.
with units as (
    select
        x.experiment_id,
        x.unit,
        x.unit_id,
        x.person_id,
        x.variant,
        x.first_exposed_at,
        least(x.first_exposed_at + interval 30 day, e.windows_close_by) as window_ends_before,
        e.metrics
    from {{ ref('int_experiment_exposures') }} as x
    join {{ ref('int_experiments_validated') }} as e using (experiment_id)
    where not x.is_multi_variant
),

visits as (
    select visit_id, visitor_id, person_id, first_action_at, is_converted, ad_views, ad_clicks
    from {{ ref('int_visits_sessionised') }}
    where visitor_id in (select unit_id from units where unit = 'visitor')
       or person_id in (select unit_id from units where unit = 'person')
),

unit_visits as (
    select u.experiment_id, u.unit_id, v.is_converted, v.ad_views, v.ad_clicks
    from units as u
    join visits as v on v.visitor_id = u.unit_id
    where u.unit = 'visitor'
      and v.first_action_at >= u.first_exposed_at and v.first_action_at < u.window_ends_before
    union all
    select u.experiment_id, u.unit_id, v.is_converted, v.ad_views, v.ad_clicks
    from units as u
    join visits as v on v.person_id = u.unit_id
    where u.unit = 'person'
      and v.first_action_at >= u.first_exposed_at and v.first_action_at < u.window_ends_before
),

web as (
    select
        experiment_id,
        unit_id,
        bool_or(is_converted) as is_converted,
        sum(ad_clicks) as ad_clicks,
        sum(ad_views) as ad_views
    from unit_visits
    group by experiment_id, unit_id
),

-- Downstream records of the unit's person in its window: one count per source.
{%- set downstream = [
    ('registrations', 'int_survey_responses_classified', 'submitted_at', "and r.form = 'registration'"),
    ('enrolments', 'int_enrolments_joined', 'course_start_at', ''),
    ('completions', 'int_enrolments_joined', 'completed_at', "and r.is_completed and r.programme = 'course'"),
    ('tickets', 'int_tickets_measured', 'created_at', ''),
] %}
{%- for name, model, anchor, condition in downstream %}
{{ name }} as (
    select u.experiment_id, u.unit_id, count(*) as {{ name }}
    from units as u
    join {{ ref(model) }} as r
      on r.person_id = u.person_id {{ condition }}
     and r.{{ anchor }} >= u.first_exposed_at and r.{{ anchor }} < u.window_ends_before
    group by u.experiment_id, u.unit_id
),

{% endfor -%}
measured as (
    select
        u.experiment_id,
        u.unit_id,
        u.variant,
        {{ explode_list('u.metrics') }} as metric_id,
        coalesce(w.is_converted, false) as is_converted,
        coalesce(w.ad_clicks, 0) as ad_clicks,
        coalesce(w.ad_views, 0) as ad_views,
        coalesce(r.registrations, 0) as registrations,
        coalesce(e.enrolments, 0) as enrolments,
        coalesce(c.completions, 0) as completions,
        coalesce(t.tickets, 0) as tickets
    from units as u
    left join web as w using (experiment_id, unit_id)
    left join registrations as r using (experiment_id, unit_id)
    left join enrolments as e using (experiment_id, unit_id)
    left join completions as c using (experiment_id, unit_id)
    left join tickets as t using (experiment_id, unit_id)
)

select
    experiment_id,
    unit_id,
    variant,
    metric_id,
    case metric_id
        when 'visit_conversion' then is_converted::int
        when 'ad_ctr' then ad_clicks
        when 'registration_30d' then (registrations > 0)::int
        when 'enrolment_30d' then (enrolments > 0)::int
        when 'completion_30d' then (completions > 0)::int
        when 'tickets_per_unit_30d' then tickets
    end::double as numerator,
    case metric_id when 'ad_ctr' then ad_views else 1 end::double as denominator
from measured
