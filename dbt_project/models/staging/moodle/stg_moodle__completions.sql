-- Course completion status per course and user. completed_at = latest criterion timecompleted;
-- is_complete_pass: a criterion reports the Moodle state complete-pass (state 2, or Moodle's
-- status text "Complete (achieved pass grade)"; "Complete (did not achieve pass grade)" is
-- complete-fail, state 3).
with completions as (
    select
        record,
        {{ json_list('record', '$.completionstatus.completions') }} as criteria
    from {{ source('moodle', 'completions') }}
    where {{ not_quarantined('moodle', 'completions') }}
)

select
    try_cast({{ json_text('record', '$.courseid') }} as bigint) as course_id,
    try_cast({{ json_text('record', '$.userid') }} as bigint) as user_id,
    coalesce(try_cast({{ json_text('record', '$.completionstatus.completed') }} as boolean), false) as is_completed,
    {{ from_unix(list_max_of(list_map('criteria', 'c',
        'try_cast(' ~ json_text('c', '$.timecompleted') ~ ' as bigint)'))) }}
        as completed_at,
    coalesce({{ list_any(list_map('criteria', 'c',
        'try_cast(' ~ json_text('c', '$.state') ~ ' as integer) = 2
        or lower(' ~ json_text('c', '$.status') ~ ") like '%achieved pass%'")) }},
        false) as is_complete_pass
from completions
