-- One row per ticket with every measure of DESIGN.md section 6 (tickets).
-- SLA states are evaluated at the data cut-off var('as_of') (default: the run's start time):
-- a ticket without reply / resolution is 'breached' once older than its target at the cut-off,
-- 'pending' before that; 'not_applicable' (first reply only) when solved/closed without a
-- public agent reply. NULL priority uses the 'normal' targets.
with tickets as (
    select * from {{ ref('stg_zendesk__tickets') }}
),

requesters as (
    select user_id, person_id from {{ ref('stg_zendesk__users') }}
),

replies as (
    select
        c.ticket_id,
        min(c.event_at) filter (where c.event_at >= t.created_at) as first_reply_at,
        count(*) as public_agent_replies
    from {{ ref('int_ticket_comments_classified') }} as c
    join tickets as t using (ticket_id)
    where c.is_agent_author and c.is_public and not c.is_opening_comment
    group by 1
),

statuses as (
    select
        ticket_id,
        min(valid_from) filter (where status = 'solved') as first_solved_at,
        max(valid_from) filter (where status = 'solved') as last_solved_at,
        min(valid_from) filter (where status = 'closed') as first_closed_at,
        max(valid_from) filter (where status = 'closed') as last_closed_at,
        count(*) filter (where previous_status = 'solved'
                          and status in ('new', 'open', 'pending', 'hold')) as reopen_count
    from {{ ref('int_ticket_status_changes_sequenced') }}
    group by 1
),

taxonomy as (
    select
        t.ticket_id,
        -- Several mapped tags: the lowest taxonomy_rank wins, ties broken by tag name.
        {{ arg_min_by('x.category', ['x.taxonomy_rank', 'x.tag']) }} as category,
        {{ arg_min_by('x.issue_type', ['x.taxonomy_rank', 'x.tag']) }} as issue_type,
        {{ arg_min_by('x.fishbone_group', ['x.taxonomy_rank', 'x.tag']) }} as fishbone_group,
        {{ arg_min_by('x.tag', ['x.taxonomy_rank', 'x.tag']) }} as taxonomy_tag
    from (select ticket_id, {{ explode_list('tags') }} as tag from tickets) as t
    join (
        -- taxonomy_rank is optional (seeds/_seeds.yml); a tag without one ranks after the rest
        select tag, category, issue_type, fishbone_group,
               coalesce({{ optional_seed_column('ticket_taxonomy', 'taxonomy_rank', 'null') }},
                        2147483647) as taxonomy_rank
        from {{ ref('ticket_taxonomy') }}
    ) as x on x.tag = t.tag
    group by 1
),

measured as (
    select
        t.ticket_id,
        r.person_id,
        t.requester_id,
        t.created_at,
        t.created_month,
        t.status,
        t.priority,
        t.channel,
        coalesce(x.category, 'Uncategorised') as category,
        coalesce(x.issue_type, 'Uncategorised') as issue_type,
        coalesce(x.fishbone_group, 'Unknown') as fishbone_group,
        x.taxonomy_tag,
        rp.first_reply_at,
        coalesce(s.first_solved_at, s.first_closed_at) as first_solved_at,
        coalesce(s.last_solved_at, s.last_closed_at) as last_solved_at,
        coalesce(s.reopen_count, 0) as reopen_count,
        coalesce(rp.public_agent_replies, 0) as public_agent_replies,
        case when t.satisfaction_score in ('good', 'bad') then t.satisfaction_score end
            as csat_rating,
        sla.first_reply_target_minutes,
        sla.resolution_target_minutes,
        {{ seconds_between('t.created_at', as_of()) }} / 60.0 as age_minutes_at_cutoff
    from tickets as t
    left join requesters as r on r.user_id = t.requester_id
    left join replies as rp using (ticket_id)
    left join statuses as s using (ticket_id)
    left join taxonomy as x using (ticket_id)
    left join {{ ref('sla_targets') }} as sla on sla.priority = coalesce(t.priority, 'normal')
)

select
    *,
    {{ seconds_between('created_at', 'first_reply_at') }} / 60.0 as first_reply_minutes,
    {{ seconds_between('created_at', 'first_solved_at') }} / 60.0 as first_resolution_minutes,
    {{ seconds_between('created_at', 'last_solved_at') }} / 60.0 as full_resolution_minutes,
    status in ('solved', 'closed') and public_agent_replies = 1 as is_one_touch,
    case
        when first_reply_at is not null then
            case when {{ seconds_between('created_at', 'first_reply_at') }} / 60.0 <= first_reply_target_minutes
                 then 'met' else 'breached' end
        when status in ('solved', 'closed') then 'not_applicable'
        when age_minutes_at_cutoff > first_reply_target_minutes then 'breached'
        else 'pending'
    end as frt_sla_status,
    case
        when first_solved_at is not null then
            case when {{ seconds_between('created_at', 'first_solved_at') }} / 60.0 <= resolution_target_minutes
                 then 'met' else 'breached' end
        when age_minutes_at_cutoff > resolution_target_minutes then 'breached'
        else 'pending'
    end as resolution_sla_status
from measured
