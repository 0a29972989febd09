-- Feedback responses with their NPS class (promoter 9-10, passive 7-8, detractor 0-6, NULL when
-- unanswered), CSAT satisfied flag (4-5), employment outcome flag and comment sentiment
-- (VADER, int_survey_comments_scored), plus registration responses (form = 'registration',
-- survey measures NULL). Survey KPIs use form = 'feedback' only.
with feedback as (
    select
        f.response_id,
        'feedback' as form,
        f.submitted_at,
        f.person_id,
        f.programme,
        f.nps_score,
        case when f.nps_score between 9 and 10 then 'promoter'
             when f.nps_score between 7 and 8 then 'passive'
             when f.nps_score between 0 and 6 then 'detractor' end as nps_class,
        f.csat_score,
        case when f.csat_score between 1 and 5 then f.csat_score >= 4 end as is_csat_satisfied,
        f.employment_status,
        case when f.employment_status is not null
             then f.employment_status in ('employed', 'self_employed', 'informal_trader')
        end as is_employment_outcome,
        f.comment_text is not null as has_comment,
        s.sentiment_score,
        s.sentiment_label
    from {{ ref('stg_kobo__feedback_responses') }} as f
    left join {{ ref('int_survey_comments_scored') }} as s using (response_id)
),

registrations as (
    select
        response_id, 'registration' as form, submitted_at, person_id, null as programme,
        null::integer as nps_score, null as nps_class, null::integer as csat_score,
        null::boolean as is_csat_satisfied, employment_status, null::boolean as is_employment_outcome,
        false as has_comment, null::double as sentiment_score, null as sentiment_label
    from {{ ref('stg_kobo__registrations') }}
)

select * from feedback
union all
select * from registrations
