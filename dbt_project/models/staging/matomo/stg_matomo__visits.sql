-- One row per Matomo visit (idVisit). visit_date / visit_month: local date / month of the first
-- action (the web anchor, DESIGN.md section 6). action_details: the visit's actionDetails[] in
-- order, typed; page = URL path without scheme/host, query string, fragment or trailing slash.
-- Each record is parsed once (from_json into a struct): a `->>` per field would re-parse the
-- whole visit document, actions included, for every column. The first action's time is read on
-- its own so that a filter on visit_date / visit_month (a monthly run) is applied before the
-- full parse, which then runs only for the month's visits.
with parsed as (
    select
        {{ from_unix("record ->> '$.firstActionTimestamp'") }} as first_action_at,
        from_json(record, '{
            "idVisit": "BIGINT", "visitorId": "VARCHAR", "userId": "VARCHAR",
            "visitorType": "VARCHAR", "referrerType": "VARCHAR", "deviceType": "VARCHAR",
            "visitDuration": "VARCHAR", "actions": "VARCHAR",
            "lastActionTimestamp": "VARCHAR",
            "actionDetails": [{"type": "VARCHAR", "url": "VARCHAR", "eventCategory": "VARCHAR",
                               "eventAction": "VARCHAR", "timestamp": "VARCHAR"}]
        }') as v
    from {{ source('matomo', 'visits') }}
    where {{ not_quarantined('matomo', 'visits') }}
),

visits as (
    select
        v.idVisit as visit_id,
        nullif(trim(v.visitorId), '') as visitor_id,
        nullif(trim(v.userId), '') as person_id,
        lower(v.visitorType) as visitor_type,
        lower(nullif(trim(v.referrerType), '')) as channel,
        lower(nullif(trim(v.deviceType), '')) as device_type,
        coalesce(try_cast(v.visitDuration as integer), 0) as duration_seconds,
        try_cast(v.actions as integer) as actions,
        first_action_at,
        {{ from_unix('v.lastActionTimestamp') }} as last_action_at,
        list_transform(coalesce(v.actionDetails, []), lambda a: {
            'action_type': lower(a.type),
            'url': a.url,
            'page': {{ url_path('a.url') }},
            'event_category': lower(a.eventCategory),
            'event_action': lower(a.eventAction),
            'action_at': {{ from_unix('a.timestamp') }}
        }) as action_details
    from parsed
)

select
    *,
    {{ local_date('first_action_at') }} as visit_date,
    {{ local_month('first_action_at') }} as visit_month
from visits
