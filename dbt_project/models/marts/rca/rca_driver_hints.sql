-- Quantified hints at drivers of KPI gaps, per local month and quarter (beyond the plan).
-- Each row states its statistic, value, n and a strength label; the value is NULL when the
-- sample is too small (n < 30 for correlations, < 10 per group for differences in rates).
-- value and effect_size are rounded to 6 decimals.
--   * ticket_csat ~ first_reply_minutes: Spearman rho over rated tickets with a reply
--     (Pearson correlation of average ranks; CSAT good = 1 / bad = 0).
--     strength by |rho|: strong >= 0.5, moderate >= 0.3, weak >= 0.1, else none.
--   * ticket_csat ~ frt_sla_status: difference in CSAT (SLA met - breached);
--     strength by Cohen's h (|h| >= 0.8 strong, >= 0.5 moderate, >= 0.2 weak).
--   * nps ~ sentiment_score: Spearman rho over feedback responses with both.
--   * course_completion_rate ~ segment: difference in completion (segment - other learners)
--     for each segment with >= 30 enrolments; effect_size = Cohen's h; `uplift` in the
--     description = how much the overall rate would rise if the segment completed like the rest.
{% set min_corr_n = 30 %}
{#- Spearman's rho of the ranks rx, ry of a group, NULL below min_corr_n pairs or without spread.
    Rounded to 9 places and +0.0: corr() over parallel partial sums can land on either side of
    zero, and -0.00 must not differ from 0.00 between builds. -#}
{% set spearman_rho -%}
    case when count(*) >= {{ min_corr_n }} and var_pop(rx) > 0 and var_pop(ry) > 0
         then round(corr(rx, ry), 9) + 0.0 end
{%- endset %}

with tickets as (
    select created_month as month_start, first_reply_minutes, csat_rating, frt_sla_status
    from {{ ref('fct_tickets') }}
    where csat_rating in ('good', 'bad') and created_month is not null
),

ticket_periods as (
    select 'month' as period_grain, month_start as period_start, {{ star_except(['month_start']) }} from tickets
    union all
    select 'quarter', date_trunc('quarter', month_start)::date, {{ star_except(['month_start']) }} from tickets
),

-- Spearman: ticket CSAT vs first reply minutes ------------------------------------------
csat_frt_pairs as (
    select period_grain, period_start,
           first_reply_minutes as x, (csat_rating = 'good')::int as y
    from ticket_periods
    where first_reply_minutes is not null
),

csat_frt_ranked as (
    select *,
        rank() over (partition by period_grain, period_start order by x)
            + (count(*) over (partition by period_grain, period_start, x) - 1) / 2.0 as rx,
        rank() over (partition by period_grain, period_start order by y)
            + (count(*) over (partition by period_grain, period_start, y) - 1) / 2.0 as ry
    from csat_frt_pairs
),

csat_frt as (
    select period_grain, period_start,
        'ticket_csat' as kpi_id,
        'first_reply_minutes' as driver,
        'spearman_rho' as statistic,
        count(*) as n,
        {{ spearman_rho }} as value
    from csat_frt_ranked
    group by 1, 2
),

-- Difference in rates: CSAT when the first-reply SLA was met vs breached ---------------------
csat_sla_groups as (
    select period_grain, period_start,
        count(*) filter (where frt_sla_status = 'met') as n_met,
        avg((csat_rating = 'good')::int) filter (where frt_sla_status = 'met') as p_met,
        count(*) filter (where frt_sla_status = 'breached') as n_breached,
        avg((csat_rating = 'good')::int) filter (where frt_sla_status = 'breached') as p_breached
    from ticket_periods
    group by 1, 2
),

csat_sla as (
    select period_grain, period_start,
        'ticket_csat' as kpi_id,
        'frt_sla_status' as driver,
        'difference_in_rates' as statistic,
        n_met + n_breached as n,
        case when n_met >= 10 and n_breached >= 10 then p_met - p_breached end as value,
        case when n_met >= 10 and n_breached >= 10
             then 2 * asin(sqrt(p_met)) - 2 * asin(sqrt(p_breached)) end as effect_size,
        p_met, p_breached, n_met, n_breached
    from csat_sla_groups
),

-- Spearman: NPS vs comment sentiment -------------------------------------------------------
feedback as (
    select {{ local_month('submitted_at') }} as month_start, nps_score as x, sentiment_score as y
    from {{ ref('fct_survey_responses') }}
    where form = 'feedback' and nps_score is not null and sentiment_score is not null
),

feedback_periods as (
    select 'month' as period_grain, month_start as period_start, x, y from feedback
    union all
    select 'quarter', date_trunc('quarter', month_start)::date, x, y from feedback
),

nps_sentiment_ranked as (
    select *,
        rank() over (partition by period_grain, period_start order by x)
            + (count(*) over (partition by period_grain, period_start, x) - 1) / 2.0 as rx,
        rank() over (partition by period_grain, period_start order by y)
            + (count(*) over (partition by period_grain, period_start, y) - 1) / 2.0 as ry
    from feedback_periods
),

nps_sentiment as (
    select period_grain, period_start,
        'nps' as kpi_id,
        'sentiment_score' as driver,
        'spearman_rho' as statistic,
        count(*) as n,
        {{ spearman_rho }} as value
    from nps_sentiment_ranked
    group by 1, 2
),

-- Completion gap by segment (mix) ----------------------------------------------------------
enrolments as (
    select cohort_month as month_start, person_id, coalesce(is_completed, false)::int as completed
    from {{ ref('fct_enrolments') }}
    where programme = 'course' and cohort_month is not null
),

enrolment_periods as (
    select 'month' as period_grain, month_start as period_start, month_start, person_id, completed from enrolments
    union all
    select 'quarter', date_trunc('quarter', month_start)::date, month_start, person_id, completed from enrolments
),

period_totals as (
    select period_grain, period_start, count(*) as n_all, sum(completed) as completed_all
    from enrolment_periods group by 1, 2
),

segment_enrolments as (
    select e.period_grain, e.period_start, m.segment_id,
           count(*) as n_seg, sum(e.completed) as completed_seg
    from enrolment_periods as e
    join (select distinct month_start, person_id, segment_id from {{ ref('fct_segment_membership') }}) as m
      on m.person_id = e.person_id and m.month_start = e.month_start
    group by 1, 2, 3
),

completion_mix as (
    select s.period_grain, s.period_start,
        'course_completion_rate' as kpi_id,
        'segment:' || s.segment_id as driver,
        'difference_in_rates' as statistic,
        s.n_seg as n,
        s.segment_id,
        s.completed_seg / s.n_seg::double as p_seg,
        (t.completed_all - s.completed_seg) / (t.n_all - s.n_seg)::double as p_rest,
        s.n_seg / t.n_all::double as mix_share
    from segment_enrolments as s
    join period_totals as t on t.period_grain = s.period_grain and t.period_start = s.period_start
    where s.n_seg >= 30 and t.n_all - s.n_seg >= 10
),

hints as (
    select period_grain, period_start, kpi_id, driver, statistic, value, n,
        abs(value) as effect_size,
        {{ kpi_strength('abs(value)') }} as strength,
        case when value is null then
            printf('Too few rated tickets with a first reply (n = %d) to estimate the association between first-reply time and ticket CSAT.', n)
        else
            printf('Ticket CSAT vs first-reply time: Spearman rho = %.2f over %d rated tickets with a reply: %s%s.',
                   value, n,
                   case when abs(value) < 0.1 then 'no meaningful association'
                        else {{ kpi_strength('abs(value)') }} || case when value < 0 then ' negative association' else ' positive association' end end,
                   case when value <= -0.1 then ' (slower first replies go with fewer good ratings)' else '' end)
        end as description
    from csat_frt

    union all
    select period_grain, period_start, kpi_id, driver, statistic, value, n,
        abs(effect_size),
        {{ kpi_strength('abs(effect_size)', 0.8, 0.5, 0.2) }},
        case when value is null then
            printf('Too few rated tickets per first-reply SLA outcome (met %d, breached %d) to compare CSAT.', n_met, n_breached)
        else
            printf('Ticket CSAT was %.0f%% when the first-reply SLA was met (n = %d) and %.0f%% when it was breached (n = %d): a difference of %+.0f points (Cohen''s h = %.2f).',
                   100 * p_met, n_met, 100 * p_breached, n_breached, 100 * value, effect_size)
        end
    from csat_sla

    union all
    select period_grain, period_start, kpi_id, driver, statistic, value, n,
        abs(value),
        {{ kpi_strength('abs(value)') }},
        case when value is null then
            printf('Too few feedback responses with an NPS score and a comment (n = %d) to relate NPS to sentiment.', n)
        else
            printf('NPS score vs comment sentiment: Spearman rho = %.2f over %d feedback responses: %s.',
                   value, n,
                   case when abs(value) < 0.1 then 'no meaningful association'
                        else {{ kpi_strength('abs(value)') }} || case when value < 0 then ' negative association' else ' positive association' end end)
        end
    from nps_sentiment

    union all
    select period_grain, period_start, kpi_id, driver, statistic, p_seg - p_rest, n,
        abs(2 * asin(sqrt(p_seg)) - 2 * asin(sqrt(p_rest))),
        {{ kpi_strength('abs(2 * asin(sqrt(p_seg)) - 2 * asin(sqrt(p_rest)))', 0.8, 0.5, 0.2) }},
        printf('Course completion in %s was %.0f%% vs %.0f%% for other learners (difference %+.0f points, n = %d enrolments, %.0f%% of all); completing like the rest would lift the overall rate by %.1f points.',
               segment_id, 100 * p_seg, 100 * p_rest, 100 * (p_seg - p_rest), n, 100 * mix_share,
               100 * mix_share * greatest(0, p_rest - p_seg))
    from completion_mix
)

select
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(kpi_id as {{ dbt.type_string() }}) as kpi_id,
    cast(driver as {{ dbt.type_string() }}) as driver,
    cast(statistic as {{ dbt.type_string() }}) as statistic,
    cast(round(value, 6) as double) as value,
    cast(n as bigint) as n,
    cast(case when value is not null then strength end as {{ dbt.type_string() }}) as strength,
    cast(case when value is not null then round(effect_size, 6) end as double) as effect_size,
    cast(description as {{ dbt.type_string() }}) as description
from hints
