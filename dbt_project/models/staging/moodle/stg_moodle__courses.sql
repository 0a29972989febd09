-- Moodle courses. The site front page (format 'site', id 1) is not a course and is dropped.
select
    try_cast(record ->> '$.id' as bigint) as course_id,
    record ->> '$.fullname' as course_name,
    record ->> '$.shortname' as course_shortname,
    try_cast(record ->> '$.categoryid' as bigint) as category_id,
    lower(record ->> '$.format') as course_format,
    {{ from_unix("record ->> '$.startdate'") }} as start_at,
    {{ local_month(from_unix("record ->> '$.startdate'")) }} as start_month,
    {{ from_unix("record ->> '$.enddate'") }} as end_at
from {{ source('moodle', 'courses') }}
where {{ not_quarantined('moodle', 'courses') }}
  and coalesce(lower(record ->> '$.format'), '') <> 'site'
