{{ config(severity='warn') }}
-- Registration and feedback answers that are not a choice of the deployed form's question:
-- a code the form does not know (an old form version, a typo in a drop file, a label exported
-- instead of the code). Warns with the offending values and how often they occur; staging
-- keeps the answers, the quality suites decide what is quarantined.
with answers as (
    select 'province' as question_name, province as answer from {{ ref('stg_kobo__registrations') }}
    union all select 'settlement_type', settlement_type from {{ ref('stg_kobo__registrations') }}
    union all select 'age_band', age_band from {{ ref('stg_kobo__registrations') }}
    union all select 'gender', gender from {{ ref('stg_kobo__registrations') }}
    union all select 'employment_status', employment_status from {{ ref('stg_kobo__registrations') }}
    union all select 'programme', programme from {{ ref('stg_kobo__feedback_responses') }}
    union all select 'employment_status', employment_status from {{ ref('stg_kobo__feedback_responses') }}
),

known as (
    select distinct question_name, choice_code from {{ ref('stg_kobo__form_choices') }}
)

select a.question_name, a.answer, count(*) as responses
from answers as a
where a.answer is not null
  and a.question_name in (select question_name from known)
  and not exists (select 1 from known as k
                  where k.question_name = a.question_name and k.choice_code = a.answer)
group by all
