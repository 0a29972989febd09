{{ config(materialized='table') }}
-- Registration form submissions. Question keys may carry group paths (group_demo/province):
-- kobo_field() picks the key whose last path segment is the question name. Choice codes are
-- lower-cased; a province is its snake_case name (seeds/provinces.csv: a form that answers
-- with the code, GP, or the name, KwaZulu-Natal, gives gauteng, kwazulu_natal, as the quality
-- suite accepts them); the phone number is a salted hash.
-- A table, not a view like the other staging models: kobo_field() reads the JSON again for
-- every question, and the people, segment and survey models and the data tests all read
-- these rows, so each submission is parsed once per build rather than once per reader.
with submissions as (
    select
        record,
        {{ instant_from_utc_text(json_text('record', '$._submission_time')) }} as submitted_at
    from {{ source('kobo', 'registration') }}
    where {{ not_quarantined('kobo', 'registration') }}
),

answers as (
    select
        *,
        {{ regex_replace_all("lower(nullif(trim(" ~ kobo_field('province') ~ "), ''))",
                             regex_literal('[ -]+'), "'_'") }} as province_answer
    from submissions
)

select
    try_cast({{ json_text('record', '$._id') }} as bigint) as response_id,
    submitted_at,
    {{ local_date('submitted_at') }} as submitted_date,
    nullif(trim({{ kobo_field('beneficiary_id') }}), '') as person_id,
    coalesce(p.province, a.province_answer) as province,
    lower(nullif(trim({{ kobo_field('settlement_type') }}), '')) as settlement_type,
    nullif(trim({{ kobo_field('age_band') }}), '') as age_band,
    lower(nullif(trim({{ kobo_field('gender') }}), '')) as gender,
    lower(nullif(trim({{ kobo_field('employment_status') }}), '')) as employment_status,
    case lower(trim({{ kobo_field('single_parent') }}))
        when 'yes' then true when 'no' then false end as is_single_parent,
    lower(nullif(trim({{ kobo_field('language') }}), '')) as language,
    {{ pii_hash(kobo_field('phone')) }} as phone_hash
from answers as a
left join {{ ref('provinces') }} as p on p.code = a.province_answer
