{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_superseded_versions('matomo', 'visits') }}") }}
-- One row per Matomo visit (idVisit). visit_date / visit_month: local date / month of the first
-- action (the web anchor, DESIGN.md section 6). action_details: the visit's actionDetails[] in
-- order, typed; page = URL path without scheme/host, query string, fragment or trailing slash
-- (the full URL is not kept: its query string can carry personal data), e-mail addresses and
-- phone numbers in its path masked.
-- A table maintained by load rather than a view: a visit's JSON (with its action list) is the
-- most expensive record to parse, and three models and the data tests read it. Each record is
-- parsed once, when its version first lands (from_json into a struct: a `->>` per field would
-- re-parse the whole document for every column). An incremental run parses only the versions
-- not yet here; its pre-hook first drops versions that raw replaced or quality quarantined, so
-- the table always equals a full build (record_key, load_id: the raw version it came from).
with parsed as (
    select
        record_key,
        load_id,
        {{ json_struct('record', {
            'idVisit': 'bigint', 'visitorId': 'varchar', 'userId': 'varchar',
            'visitorType': 'varchar', 'referrerType': 'varchar', 'deviceType': 'varchar',
            'visitDuration': 'varchar', 'actions': 'varchar',
            'firstActionTimestamp': 'varchar', 'lastActionTimestamp': 'varchar',
            'actionDetails': [{'type': 'varchar', 'url': 'varchar', 'eventCategory': 'varchar',
                               'eventAction': 'varchar', 'timestamp': 'varchar'}]
        }) }} as v
    from {{ source('matomo', 'visits') }}
    where {{ versions_to_parse('matomo', 'visits') }}
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
        {{ from_unix('v.firstActionTimestamp') }} as first_action_at,
        {{ from_unix('v.lastActionTimestamp') }} as last_action_at,
        {{ list_map('coalesce(v.actionDetails, ' ~ empty_list() ~ ')', 'a', struct_of([
            ('action_type', 'lower(a.type)'),
            ('page', mask_pii(page_url('a.url'))),
            ('event_category', 'lower(a.eventCategory)'),
            ('event_action', 'lower(a.eventAction)'),
            ('action_at', from_unix('a.timestamp')),
        ])) }} as action_details,
        record_key,
        load_id
    from parsed
)

select
    {{ star_except(['record_key', 'load_id']) }},
    {{ local_date('first_action_at') }} as visit_date,
    {{ local_month('first_action_at') }} as visit_month,
    record_key,
    load_id
from visits
