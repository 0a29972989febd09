select
    (record ->> '$._id')::bigint as response_id,
    (record ->> '$._submission_time')::timestamp at time zone 'UTC' as submitted_at,
    nullif(trim({{ kobo_field('beneficiary_id') }}), '') as person_id,
    lower({{ kobo_field('programme') }}) as programme,
    try_cast({{ kobo_field('nps') }} as integer) as nps_score,
    try_cast({{ kobo_field('csat') }} as integer) as csat_score,
    lower({{ kobo_field('employment_status') }}) as employment_status,
    nullif(trim({{ mask_pii(kobo_field('comment')) }}), '') as comment_text
from {{ source('kobo', 'feedback') }}
where {{ not_quarantined('kobo', 'feedback') }}
