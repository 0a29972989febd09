-- The site front page (format 'site') is not a course.
select
    (record ->> '$.id')::bigint as course_id,
    record ->> '$.fullname' as course_name,
    record ->> '$.shortname' as course_shortname,
    try_cast(record ->> '$.categoryid' as bigint) as category_id,
    {{ from_unix("record ->> '$.startdate'") }} as start_at,
    {{ from_unix("record ->> '$.enddate'") }} as end_at
from {{ source('moodle', 'courses') }}
where {{ not_quarantined('moodle', 'courses') }}
  and coalesce(record ->> '$.format', '') <> 'site'
