-- One row per SayPro person (DESIGN.md section 7). No PII: no names, e-mail or phone.
select
    person_id, signup_date, signup_month, province, settlement_type, age_band, gender,
    employment_status, is_single_parent, is_premium, language,
    registered_at is not null as has_registration, in_zendesk, in_matomo, in_moodle, in_kobo
from {{ ref('int_people_resolved') }}
