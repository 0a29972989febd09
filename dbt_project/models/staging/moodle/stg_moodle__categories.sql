-- Moodle course categories; idnumber 'events' marks the events programme.
select
    try_cast(record ->> '$.id' as bigint) as category_id,
    record ->> '$.name' as category_name,
    lower(nullif(trim(record ->> '$.idnumber'), '')) as category_idnumber,
    try_cast(record ->> '$.parent' as bigint) as parent_category_id
from {{ source('moodle', 'categories') }}
where {{ not_quarantined('moodle', 'categories') }}
