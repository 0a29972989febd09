-- The choices of each select question of the deployed forms (KoboToolbox asset
-- content.survey and content.choices): one row per form, question and choice. A question
-- names its choice list in select_from_list_name; the survey and choice lists are unnested
-- from the same asset record.
with forms as (
    select
        record ->> '$.uid' as form_uid,
        record ->> '$.name' as form_name,
        record ->> '$.version_id' as form_version,
        from_json(record -> '$.content.survey',
                  '[{"name": "VARCHAR", "type": "VARCHAR", "$xpath": "VARCHAR",
                     "select_from_list_name": "VARCHAR"}]') as survey,
        from_json(record -> '$.content.choices',
                  '[{"list_name": "VARCHAR", "name": "VARCHAR", "label": ["VARCHAR"]}]')
            as choices
    from {{ source('kobo', 'forms') }}
    where {{ not_quarantined('kobo', 'forms') }}
),

questions as (
    select form_uid, form_name, form_version, unnest(survey) as question, choices
    from forms
)

select
    form_uid,
    form_name,
    form_version,
    question.name as question_name,
    coalesce(question."$xpath", question.name) as question_path,
    question.type as question_type,
    choice.name as choice_code,
    choice.label[1] as choice_label
from questions,
    unnest(list_filter(choices, lambda c: c.list_name = question.select_from_list_name))
        as t(choice)
where question.type in ('select_one', 'select_multiple')
