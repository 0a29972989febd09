-- Moodle course categories; idnumber 'events' marks the events programme.
select
    try_cast({{ json_text('record', '$.id') }} as bigint) as category_id,
    {{ json_text('record', '$.name') }} as category_name,
    lower(nullif(trim({{ json_text('record', '$.idnumber') }}), '')) as category_idnumber,
    try_cast({{ json_text('record', '$.parent') }} as bigint) as parent_category_id
from {{ source('moodle', 'categories') }}
where {{ not_quarantined('moodle', 'categories') }}
