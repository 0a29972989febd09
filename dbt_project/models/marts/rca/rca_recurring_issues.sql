-- Issue types per local month: recurrence in the monthly Pareto, reopen rate, scope
-- (system-wide or segment-specific by lift) and help-centre coverage (DESIGN.md section 8).
with tickets as (
    select
        ticket_id, person_id, created_month as month_start,
        coalesce(issue_type, 'Uncategorised') as issue_type,
        coalesce(category, 'Uncategorised') as category,
        first_resolution_minutes, reopen_count
    from {{ ref('fct_tickets') }}
    where created_month is not null
),

issue_months as (
    select
        month_start,
        issue_type,
        {{ arg_max_by("category", ["category_tickets_key"]) }} as category,
        sum(category_tickets) as tickets
    from (
        select month_start, issue_type, category,
               -- ties between categories resolve to the alphabetically first
               count(*) + 0.5 - rank() over (partition by month_start, issue_type order by category) / 1e6 as category_tickets_key,
               count(*) as category_tickets
        from tickets group by 1, 2, 3
    )
    group by 1, 2
),

reopens as (
    select
        month_start, issue_type,
        count(*) filter (where first_resolution_minutes is not null) as solved_tickets,
        count(*) filter (where first_resolution_minutes is not null and coalesce(reopen_count, 0) > 0) as reopened_tickets
    from tickets group by 1, 2
),

vital as (
    select period_start as month_start, item as issue_type
    from {{ ref('rca_pareto') }}
    where period_grain = 'month' and dimension = 'issue_type' and is_vital_few
),

recurrence as (
    select
        im.month_start, im.issue_type,
        count(v.month_start) as months_in_vital_few_last_3
    from issue_months as im
    left join vital as v
      on v.issue_type = im.issue_type
     and v.month_start between (im.month_start - interval 2 month)::date and im.month_start
    group by 1, 2
),

month_totals as (
    select month_start, count(*) as all_tickets from tickets group by 1
),

-- Every segment counts (DESIGN.md section 8), technical_issue_users too: its members are
-- defined by their Technical Support tickets, so its lift for such issues is partly by
-- construction; a segment that stands out beyond that still has the higher lift.
lift_segments as (
    select distinct month_start, person_id, segment_id from {{ ref('fct_segment_membership') }}
),

segment_tickets as (
    select t.month_start, t.issue_type, ls.segment_id
    from tickets as t
    join lift_segments as ls on ls.person_id = t.person_id and ls.month_start = t.month_start
),

segment_totals as (
    select month_start, segment_id, count(*) as segment_tickets
    from segment_tickets group by 1, 2
    having count(*) >= 20
),

lifts as (
    select
        st.month_start, st.issue_type, st.segment_id,
        (count(*) / any_value(tot.segment_tickets)::double)
            / (any_value(im.tickets) / any_value(mt.all_tickets)::double) as lift
    from segment_tickets as st
    join segment_totals as tot on tot.month_start = st.month_start and tot.segment_id = st.segment_id
    join issue_months as im on im.month_start = st.month_start and im.issue_type = st.issue_type
    join month_totals as mt on mt.month_start = st.month_start
    group by 1, 2, 3
),

top_lift as (
    select month_start, issue_type, segment_id as top_segment_id, lift as segment_lift
    from lifts
    qualify row_number() over (partition by month_start, issue_type order by lift desc, segment_id) = 1
),

taxonomy as (
    select distinct tag, issue_type from {{ ref('ticket_taxonomy') }}
),

article_labels as (
    select a.article_id, a.vote_sum, a.vote_count, {{ explode_list('a.label_names') }} as label
    from {{ ref('stg_zendesk__articles') }} as a
),

issue_articles as (
    select distinct t.issue_type, al.article_id, al.vote_sum, al.vote_count
    from taxonomy as t
    join article_labels as al on lower(al.label) = lower(t.tag)
),

kb as (
    select
        issue_type,
        count(*) as kb_articles,
        -- share of up-votes: Zendesk vote_sum = up - down, vote_count = up + down
        case when sum(vote_count) > 0
             then (sum(vote_count) + sum(vote_sum)) / (2.0 * sum(vote_count)) end as kb_helpfulness
    from issue_articles
    group by 1
)

select
    cast(im.month_start as date) as month_start,
    cast(im.issue_type as {{ dbt.type_string() }}) as issue_type,
    cast(im.category as {{ dbt.type_string() }}) as category,
    cast(im.tickets as bigint) as tickets,
    cast(r.months_in_vital_few_last_3 as integer) as months_in_vital_few_last_3,
    cast(r.months_in_vital_few_last_3 >= 2 as boolean) as is_recurring,
    cast(case when ro.solved_tickets > 0 then ro.reopened_tickets / ro.solved_tickets::double end as double)
        as reopen_rate,
    cast(tl.top_segment_id as {{ dbt.type_string() }}) as top_segment_id,
    cast(tl.segment_lift as double) as segment_lift,
    cast(case when tl.segment_lift >= 2 then 'segment_specific' else 'system_wide' end as {{ dbt.type_string() }}) as scope,
    cast(coalesce(kb.kb_articles, 0) as integer) as kb_articles,
    cast(kb.kb_helpfulness as double) as kb_helpfulness
from issue_months as im
join recurrence as r on r.month_start = im.month_start and r.issue_type = im.issue_type
left join reopens as ro on ro.month_start = im.month_start and ro.issue_type = im.issue_type
left join top_lift as tl on tl.month_start = im.month_start and tl.issue_type = im.issue_type
left join kb on kb.issue_type = im.issue_type
