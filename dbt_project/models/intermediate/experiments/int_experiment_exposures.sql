-- One row per experiment and exposed unit (DESIGN.md section 11); the mart
-- fct_experiment_exposures publishes it, and the outcomes are measured from it. A visit exposes its unit
-- (visitor: Matomo visitorId; person: userId, so visits without one do not count) when its
-- campaign name is the experiment's and its campaign content one of the variants (both
-- compared ignoring case), on a local date from start_date to end_date. The first exposure
-- (earliest first action; ties by idVisit) fixes the variant and the time; a unit exposed to
-- two or more variants is multi-variant, kept here and left out of the results.
-- person_id: a person unit's own id; for a visitor, the userId of its earliest visit that has
-- one (any date: a visitor who logs in later maps to that person), NULL if it never logged in.
with variants as (
    select
        experiment_id,
        unit,
        lower(campaign_name) as campaign_key,
        start_date,
        end_date,
        {{ explode_list('variants') }} as variant
    from {{ ref('int_experiments_validated') }}
),

campaign_visits as (
    select visit_id, lower(campaign_name) as campaign_key, lower(campaign_content) as content_key
    from {{ ref('stg_matomo__visit_campaigns') }}
    where campaign_name is not null and campaign_content is not null
),

exposure_visits as (
    select
        x.experiment_id,
        x.unit,
        x.variant,
        case x.unit when 'person' then v.person_id else v.visitor_id end as unit_id,
        v.visit_id,
        v.first_action_at
    from campaign_visits as c
    join variants as x
      on x.campaign_key = c.campaign_key and lower(x.variant) = c.content_key
    join {{ ref('stg_matomo__visits') }} as v on v.visit_id = c.visit_id
    where v.visit_date between x.start_date and x.end_date
),

units as (
    select
        experiment_id,
        unit_id,
        any_value(unit) as unit,
        {{ arg_min_by('variant', ['first_action_at', 'visit_id']) }} as variant,
        min(first_action_at) as first_exposed_at,
        count(distinct variant) as variants_exposed,
        count(*) as exposure_visits
    from exposure_visits
    where unit_id is not null
    group by experiment_id, unit_id
),

visitor_people as (
    select visitor_id, {{ arg_min_by('person_id', ['first_action_at', 'visit_id']) }} as person_id
    from {{ ref('stg_matomo__visits') }}
    where person_id is not null
      and visitor_id in (select unit_id from units where unit = 'visitor')
    group by visitor_id
)

select
    u.experiment_id,
    u.unit_id,
    u.variant,
    u.first_exposed_at,
    u.variants_exposed > 1 as is_multi_variant,
    u.unit,
    case u.unit when 'person' then u.unit_id else p.person_id end as person_id,
    {{ local_date('u.first_exposed_at') }} as first_exposed_date,
    u.variants_exposed,
    u.exposure_visits
from units as u
left join visitor_people as p on u.unit = 'visitor' and p.visitor_id = u.unit_id
