select
    (record ->> '$.courseid')::bigint as course_id,
    (record ->> '$.id')::bigint as user_id,
    nullif(trim(record ->> '$.idnumber'), '') as person_id,
    coalesce(json_extract_string(record, '$.roles[*].shortname'), []::varchar[]) as roles,
    list_contains(coalesce(json_extract_string(record, '$.roles[*].shortname'), []::varchar[]),
                  'student') as is_student,
    {{ from_unix("record ->> '$.firstaccess'") }} as first_access_at,
    {{ from_unix("record ->> '$.lastaccess'") }} as last_access_at,
    {{ from_unix("record ->> '$.lastcourseaccess'") }} as last_course_access_at,
    {{ pii_hash("record ->> '$.email'") }} as email_hash
from {{ source('moodle', 'enrolments') }}
where {{ not_quarantined('moodle', 'enrolments') }}
