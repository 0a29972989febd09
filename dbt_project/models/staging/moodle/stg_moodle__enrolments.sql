{{ config(materialized='table') }}
-- A table, not a view: its hashes come from saypro_pii_hash(), a function of dbt's own
-- connection (the salt stays out of SQL), so they are computed once, at build time, and any
-- reader of the warehouse sees them.
-- Users enrolled in a course (core_enrol_get_enrolled_users + courseid), one row per course and
-- user, with role short names; is_student = role 'student' among them (teachers are not
-- enrolments). Names are dropped; e-mail is a salted hash.
with enrolled as (
    select
        record,
        {{ list_map(json_text_list('record', '$.roles', 'shortname'), 'r', 'lower(trim(r))') }}
            as roles
    from {{ source('moodle', 'enrolments') }}
    where {{ not_quarantined('moodle', 'enrolments') }}
)

select
    try_cast({{ json_text('record', '$.courseid') }} as bigint) as course_id,
    try_cast({{ json_text('record', '$.id') }} as bigint) as user_id,
    nullif(trim({{ json_text('record', '$.idnumber') }}), '') as person_id,
    roles,
    {{ list_has('roles', "'student'") }} as is_student,
    {{ from_unix(json_text('record', '$.firstaccess')) }} as first_access_at,
    {{ from_unix(json_text('record', '$.lastaccess')) }} as last_access_at,
    {{ from_unix(json_text('record', '$.lastcourseaccess')) }} as last_course_access_at,
    {{ pii_hash(json_text('record', '$.email')) }} as email_hash
from enrolled
