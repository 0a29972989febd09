-- Question keys may carry group paths (group_demo/province): kobo_field() takes the last segment.
select
    (record ->> '$._id')::bigint as response_id,
    (record ->> '$._submission_time')::timestamp at time zone 'UTC' as submitted_at,
    nullif(trim({{ kobo_field('beneficiary_id') }}), '') as person_id,
    lower({{ kobo_field('province') }}) as province,
    lower({{ kobo_field('settlement_type') }}) as settlement_type,
    {{ kobo_field('age_band') }} as age_band,
    lower({{ kobo_field('gender') }}) as gender,
    lower({{ kobo_field('employment_status') }}) as employment_status,
    lower({{ kobo_field('single_parent') }}) = 'yes' as is_single_parent,
    lower({{ kobo_field('language') }}) as language,
    {{ pii_hash(kobo_field('phone')) }} as phone_hash
from {{ source('kobo', 'registration') }}
where {{ not_quarantined('kobo', 'registration') }}
