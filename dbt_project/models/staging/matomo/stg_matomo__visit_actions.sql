-- One row per entry of a visit's actionDetails[], in order (action_index from 1).
-- page = URL path without scheme/host, query string, fragment or trailing slash.
with visits as (
    select
        (record ->> '$.idVisit')::bigint as visit_id,
        nullif(trim(record ->> '$.userId'), '') as person_id,
        json_extract(record, '$.actionDetails[*]') as actions
    from {{ source('matomo', 'visits') }}
    where {{ not_quarantined('matomo', 'visits') }}
      and {{ latest_version('matomo', 'visits') }}
),

actions as (
    select visit_id, person_id, unnest(actions) as action,
           generate_subscripts(actions, 1) as action_index
    from visits
)

select
    visit_id,
    person_id,
    action_index,
    lower(action ->> '$.type') as action_type,
    action ->> '$.url' as url,
    {{ url_path("action ->> '$.url'") }} as page,
    lower(action ->> '$.eventCategory') as event_category,
    lower(action ->> '$.eventAction') as event_action,
    {{ from_unix("action ->> '$.timestamp'") }} as action_at
from actions
