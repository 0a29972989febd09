-- The DuckDB floor: the headline aggregates computed by hand from the raw tables in one
-- script, to compare the dbt transform against. Local time zone is set by the caller.

create or replace temp table floor_tickets as
with tickets as (
    select record->>'$.id' as ticket_id,
           (record->>'$.created_at')::timestamptz as created_at,
           record->>'$.status' as status
    from raw.zendesk__tickets
),
agents as (
    select record->>'$.id' as user_id from raw.zendesk__users
    where record->>'$.role' in ('agent', 'admin')
),
children as (
    select e.record->>'$.ticket_id' as ticket_id,
           (e.record->>'$.created_at')::timestamptz as event_at,
           unnest(json_extract(e.record, '$.child_events[*]')) as child
    from raw.zendesk__ticket_events e
),
comments as (
    select ticket_id, event_at, child->>'$.author_id' as author_id,
           (child->>'$.public')::boolean as is_public,
           row_number() over (partition by ticket_id order by event_at, child->>'$.id') as n
    from children where child->>'$.event_type' = 'Comment'
),
first_reply as (
    select c.ticket_id, min(c.event_at) as first_reply_at
    from comments c join agents a on a.user_id = c.author_id
    where c.is_public and c.n > 1
    group by 1
),
solves as (
    select ticket_id, min(event_at) as first_solved_at
    from children
    where child->>'$.event_type' = 'Change'
      and coalesce(child->>'$.status', child->>'$.value') = 'solved'
    group by 1
)
select t.ticket_id, date_trunc('month', t.created_at)::date as month_start, t.status,
       epoch(f.first_reply_at - t.created_at) / 60.0 as first_reply_minutes,
       s.first_solved_at is not null as was_solved
from tickets t
left join first_reply f using (ticket_id)
left join solves s using (ticket_id);

create or replace temp table floor_support_monthly as
select month_start, count(*) as tickets_created, count(*) filter (where was_solved) as solved,
       quantile_cont(first_reply_minutes, 0.5) as median_first_reply_minutes,
       quantile_cont(first_reply_minutes, 0.9) as p90_first_reply_minutes
from floor_tickets group by 1;

create or replace temp table floor_web_monthly as
with visits as (
    select record->>'$.idVisit' as visit_id, record->>'$.visitorId' as visitor_id,
           record->>'$.referrerType' as channel,
           date_trunc('month', to_timestamp((record->>'$.firstActionTimestamp')::bigint))::date
               as month_start,
           (record->>'$.actions')::int as actions,
           (record->>'$.visitDuration')::int as duration,
           json_array_length(record, '$.actionDetails') as action_count,
           list_count(list_filter(
               json_extract_string(record, '$.actionDetails[*].type'), lambda x: x = 'action'))
               as pageviews
    from raw.matomo__visits
)
select month_start, grouping(channel) as is_all, coalesce(channel, 'all') as channel,
       count(*) as visits, count(distinct visitor_id) as unique_visitors,
       sum(pageviews) as pageviews, avg((actions = 1)::int) as bounce_rate,
       avg(duration) as avg_time_on_site_seconds
from visits group by grouping sets ((month_start, channel), (month_start));

create or replace temp table floor_completion as
with enrolments as (
    select record->>'$.courseid' as course_id, record->>'$.id' as user_id
    from raw.moodle__enrolments
    where list_contains(json_extract_string(record, '$.roles[*].shortname'), 'student')
),
completions as (
    select record->>'$.courseid' as course_id, record->>'$.userid' as user_id,
           (record->>'$.completionstatus.completed')::boolean as completed
    from raw.moodle__completions
),
courses as (
    select record->>'$.id' as course_id,
           date_trunc('month', to_timestamp((record->>'$.startdate')::bigint))::date as cohort
    from raw.moodle__courses
)
select c.cohort, count(*) as enrolments, avg(coalesce(x.completed, false)::int) as completion_rate
from enrolments e join courses c using (course_id)
left join completions x using (course_id, user_id)
group by 1;
