{{ config(severity='warn') }}
-- Registration and feedback answers that are not a choice of the deployed form's question:
-- a code the form does not know (an old form version, a typo in a drop file, a label exported
-- instead of the code). Warns, never fails the build: one row per form, question and unknown
-- code, with how many responses give it, so the warning's rows name what to fix. Staging keeps
-- the answers; the quality suites decide what is quarantined.
-- Each staging table is read once and unpivoted into question / answer: crossed with its
-- question names (portable SQL: the test runs on DuckDB and on Spark).
{%- set forms = [
    ('registration', ref('stg_kobo__registrations'),
     ['province', 'settlement_type', 'age_band', 'gender', 'employment_status']),
    ('feedback', ref('stg_kobo__feedback_responses'), ['programme', 'employment_status']),
] %}
with answers as (
    {%- for form, relation, questions in forms %}
    select '{{ form }}' as form, q.question_name,
        case q.question_name
            {%- for question in questions %}
            when '{{ question }}' then t.{{ question }}
            {%- endfor %}
        end as answer
    from {{ relation }} as t
    cross join (values {% for question in questions %}('{{ question }}'){{ ', ' if not loop.last }}{% endfor %}) as q (question_name)
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

known as (
    select distinct question_name, choice_code from {{ ref('stg_kobo__form_choices') }}
)

select a.form, a.question_name, a.answer, count(*) as responses
from answers as a
where a.answer is not null
  and a.question_name in (select question_name from known)
  and not exists (select 1 from known as k
                  where k.question_name = a.question_name and k.choice_code = a.answer)
group by all
order by 1, 2, 3
