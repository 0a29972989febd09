-- One row per student enrolment (course × Moodle user); anchor = the course's startdate.
select
    course_id, course_name, programme, person_id, user_id, cohort_month, course_start_at,
    is_completed, completed_at, grade_pct, is_passed, first_access_at, last_access_at,
    last_access_month
from {{ ref('int_enrolments_joined') }}
