-- Course-total grade per course and user: the grade item with itemtype 'course'.
with items as (
    select
        try_cast(record ->> '$.courseid' as bigint) as course_id,
        try_cast(record ->> '$.userid' as bigint) as user_id,
        unnest(json_extract(record, '$.gradeitems[*]')) as item
    from {{ source('moodle', 'grades') }}
    where {{ not_quarantined('moodle', 'grades') }}
)

select
    course_id,
    user_id,
    try_cast(item ->> '$.graderaw' as double) as grade_raw,
    try_cast(item ->> '$.grademax' as double) as grade_max,
    try_cast(item ->> '$.gradepass' as double) as grade_pass
from items
where lower(item ->> '$.itemtype') = 'course'
