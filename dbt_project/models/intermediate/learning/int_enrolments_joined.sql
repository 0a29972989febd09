-- Student enrolments (role student among the user's roles; teachers excluded; suspended or
-- withdrawn students still count) with course, programme (events when the course category's
-- idnumber is 'events', else course), completion and course-total grade.
-- is_passed: completion state complete-pass, or course-total graderaw >= gradepass (when a
-- pass grade is set, i.e. gradepass > 0).
with enrolments as (
    select * from {{ ref('stg_moodle__enrolments') }} where is_student
),

courses as (
    select c.*, coalesce(cat.category_idnumber = 'events', false) as is_event
    from {{ ref('stg_moodle__courses') }} as c
    left join {{ ref('stg_moodle__categories') }} as cat using (category_id)
)

select
    e.course_id,
    e.user_id,
    e.person_id,
    c.course_name,
    case when c.is_event then 'events' else 'course' end as programme,
    c.start_at as course_start_at,
    c.start_month as cohort_month,
    coalesce(x.is_completed, false) as is_completed,
    x.completed_at,
    g.grade_raw / nullif(g.grade_max, 0) as grade_pct,
    coalesce(x.is_complete_pass, false)
        or coalesce(g.grade_raw >= nullif(g.grade_pass, 0), false) as is_passed,
    e.first_access_at,
    e.last_course_access_at as last_access_at,
    {{ local_month('e.last_course_access_at') }} as last_access_month
from enrolments as e
join courses as c using (course_id)
left join {{ ref('stg_moodle__completions') }} as x using (course_id, user_id)
left join {{ ref('stg_moodle__grades') }} as g using (course_id, user_id)
