-- One row per KoboToolbox response: feedback responses (NPS, CSAT, employment, sentiment) and
-- registration responses (form = 'registration', survey measures NULL).
select
    response_id, form, submitted_at, {{ local_date('submitted_at') }} as submitted_date,
    {{ local_month('submitted_at') }} as submitted_month, person_id, programme,
    nps_score, nps_class, csat_score, is_csat_satisfied, employment_status,
    is_employment_outcome, has_comment, sentiment_score, sentiment_label
from {{ ref('int_survey_responses_classified') }}
