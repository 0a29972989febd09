-- The choices of each select question of the deployed forms (KoboToolbox asset
-- content.survey and content.choices): one row per form, question and choice. A question
-- names its choice list in select_from_list_name; the survey and choice lists are unnested
-- from the same asset record.
with forms as (
    select
        {{ json_text('record', '$.uid') }} as form_uid,
        {{ json_text('record', '$.name') }} as form_name,
        {{ json_text('record', '$.version_id') }} as form_version,
        {{ json_struct(json_value('record', '$.content.survey'),
                       [{'name': 'varchar', 'type': 'varchar', '$xpath': 'varchar',
                         'select_from_list_name': 'varchar'}]) }} as survey,
        {{ json_struct(json_value('record', '$.content.choices'),
                       [{'list_name': 'varchar', 'name': 'varchar', 'label': ['varchar']}]) }}
            as choices
    from {{ source('kobo', 'forms') }}
    where {{ not_quarantined('kobo', 'forms') }}
),

questions as (
    select form_uid, form_name, form_version, {{ explode_list('survey') }} as question, choices
    from forms
),

question_choices as (
    select
        form_uid,
        form_name,
        form_version,
        question,
        {{ explode_list(list_where('choices', 'c', 'c.list_name = question.select_from_list_name')) }}
            as choice
    from questions
)

select
    form_uid,
    form_name,
    form_version,
    question.name as question_name,
    coalesce(question.{{ adapter.quote('$xpath') }}, question.name) as question_path,
    question.type as question_type,
    choice.name as choice_code,
    {{ list_first('choice.label') }} as choice_label
from question_choices
where question.type in ('select_one', 'select_multiple')
