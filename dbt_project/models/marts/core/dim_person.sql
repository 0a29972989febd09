select person_id, signup_date, province, settlement_type, age_band, gender, employment_status,
       is_single_parent, is_premium
from {{ ref('int_people_resolved') }}
