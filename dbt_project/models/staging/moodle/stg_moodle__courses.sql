-- Moodle courses. The site front page (format 'site', id 1) is not a course and is dropped.
select
    try_cast({{ json_text('record', '$.id') }} as bigint) as course_id,
    {{ mask_pii(json_text('record', '$.fullname')) }} as course_name,
    {{ json_text('record', '$.shortname') }} as course_shortname,
    try_cast({{ json_text('record', '$.categoryid') }} as bigint) as category_id,
    lower({{ json_text('record', '$.format') }}) as course_format,
    {{ from_unix(json_text('record', '$.startdate')) }} as start_at,
    {{ local_month(from_unix(json_text('record', '$.startdate'))) }} as start_month,
    {{ from_unix(json_text('record', '$.enddate')) }} as end_at
from {{ source('moodle', 'courses') }}
where {{ not_quarantined('moodle', 'courses') }}
  and coalesce(lower({{ json_text('record', '$.format') }}), '') <> 'site'
