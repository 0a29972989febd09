-- Feedback responses with NPS class and comment sentiment, plus registration responses
-- (form = 'registration', survey measures NULL). Survey KPIs use form = 'feedback'.
with feedback as (
    select
        f.response_id, 'feedback' as form, f.submitted_at, f.person_id, f.programme,
        f.nps_score,
        case when f.nps_score between 9 and 10 then 'promoter'
             when f.nps_score between 7 and 8 then 'passive'
             when f.nps_score between 0 and 6 then 'detractor' end as nps_class,
        f.csat_score, f.employment_status, s.sentiment_score, s.sentiment_label
    from {{ ref('stg_kobo__feedback_responses') }} as f
    left join {{ ref('int_survey_comments_scored') }} as s using (response_id)
),

registrations as (
    select
        response_id, 'registration' as form, submitted_at, person_id, null as programme,
        null::integer as nps_score, null as nps_class, null::integer as csat_score,
        employment_status, null::double as sentiment_score, null as sentiment_label
    from {{ ref('stg_kobo__registrations') }}
)

select * from feedback
union all
select * from registrations
