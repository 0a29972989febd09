select
    (record ->> '$.courseid')::bigint as course_id,
    (record ->> '$.userid')::bigint as user_id,
    coalesce(try_cast(record ->> '$.completionstatus.completed' as boolean), false) as is_completed,
    {{ from_unix("list_max(json_extract_string(record, '$.completionstatus.completions[*].timecompleted')::bigint[])") }}
        as completed_at
from {{ source('moodle', 'completions') }}
where {{ not_quarantined('moodle', 'completions') }}
