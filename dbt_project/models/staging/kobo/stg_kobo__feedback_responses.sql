{{ config(materialized='table') }}
-- Feedback form submissions (the survey KPIs' source). Group-path keys resolved by the last
-- path segment; the comment is masked for e-mail addresses and phone numbers.
-- A table, not a view like the other staging models: kobo_field() reads the JSON again for
-- every question, and the people, segment and survey models and the data tests all read
-- these rows, so each submission is parsed once per build rather than once per reader.
with submissions as (
    select
        record,
        {{ instant_from_utc_text(json_text('record', '$._submission_time')) }} as submitted_at
    from {{ source('kobo', 'feedback') }}
    where {{ not_quarantined('kobo', 'feedback') }}
)

select
    try_cast({{ json_text('record', '$._id') }} as bigint) as response_id,
    submitted_at,
    {{ local_date('submitted_at') }} as submitted_date,
    {{ local_month('submitted_at') }} as submitted_month,
    nullif(trim({{ kobo_field('beneficiary_id') }}), '') as person_id,
    lower(nullif(trim({{ kobo_field('programme') }}), '')) as programme,
    try_cast({{ kobo_field('nps') }} as integer) as nps_score,
    try_cast({{ kobo_field('csat') }} as integer) as csat_score,
    lower(nullif(trim({{ kobo_field('employment_status') }}), '')) as employment_status,
    nullif(trim({{ mask_pii(kobo_field('comment')) }}), '') as comment_text
from submissions
