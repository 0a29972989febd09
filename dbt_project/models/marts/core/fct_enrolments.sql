select course_id, course_name, programme, person_id, user_id, cohort_month, is_completed,
       completed_at, grade_pct, is_passed, last_access_at
from {{ ref('int_enrolments_joined') }}
