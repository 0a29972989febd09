{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_superseded_versions('matomo', 'visits') }}") }}
-- One row per Matomo visit (idVisit) with its campaign fields (DESIGN.md section 4): NULL when
-- the visit came through no campaign. Servers without Matomo's campaign dimensions give only
-- referrerName (= the campaign name) and referrerKeyword when referrerType is campaign.
-- Apart from stg_matomo__visits rather than added to it: that table keeps every version it has
-- parsed, so new columns there would be NULL for all history until a full refresh. This one is
-- maintained by load in the same way (macros/staging_by_load.sql): built whole the first time,
-- then each raw version is parsed once, reading only the campaign keys.
with parsed as (
    select
        record_key,
        load_id,
        {{ json_struct('record', {
            'idVisit': 'bigint', 'referrerType': 'varchar', 'referrerName': 'varchar',
            'referrerKeyword': 'varchar', 'campaignName': 'varchar', 'campaignSource': 'varchar',
            'campaignMedium': 'varchar', 'campaignKeyword': 'varchar',
            'campaignContent': 'varchar', 'campaignId': 'varchar'
        }) }} as v
    from {{ source('matomo', 'visits') }}
    where {{ versions_to_parse('matomo', 'visits') }}
)

select
    v.idVisit as visit_id,
    coalesce(nullif(trim(v.campaignName), ''),
             case when lower(v.referrerType) = 'campaign' then nullif(trim(v.referrerName), '') end)
        as campaign_name,
    nullif(trim(v.campaignSource), '') as campaign_source,
    nullif(trim(v.campaignMedium), '') as campaign_medium,
    coalesce(nullif(trim(v.campaignKeyword), ''),
             case when lower(v.referrerType) = 'campaign' then nullif(trim(v.referrerKeyword), '') end)
        as campaign_keyword,
    nullif(trim(v.campaignContent), '') as campaign_content,
    nullif(trim(v.campaignId), '') as campaign_id,
    record_key,
    load_id
from parsed
