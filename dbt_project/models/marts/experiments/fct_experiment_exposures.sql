-- Exposures per experiment and unit (DESIGN.md section 11), as int_experiment_exposures
-- decides them.
select
    experiment_id, unit_id, variant, first_exposed_at, is_multi_variant, unit, person_id,
    first_exposed_date, variants_exposed, exposure_visits
from {{ ref('int_experiment_exposures') }}
