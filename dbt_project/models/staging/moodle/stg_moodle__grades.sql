-- Course-total grade per course and user: the grade item with itemtype 'course'.
with items as (
    select
        try_cast({{ json_text('record', '$.courseid') }} as bigint) as course_id,
        try_cast({{ json_text('record', '$.userid') }} as bigint) as user_id,
        {{ explode_list(json_list('record', '$.gradeitems')) }} as item
    from {{ source('moodle', 'grades') }}
    where {{ not_quarantined('moodle', 'grades') }}
)

select
    course_id,
    user_id,
    try_cast({{ json_text('item', '$.graderaw') }} as double) as grade_raw,
    try_cast({{ json_text('item', '$.grademax') }} as double) as grade_max,
    try_cast({{ json_text('item', '$.gradepass') }} as double) as grade_pass
from items
where lower({{ json_text('item', '$.itemtype') }}) = 'course'
