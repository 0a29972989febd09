-- One row per experiment × non-control variant × metric (DESIGN.md section 11): the statistics
-- of int_experiment_comparisons_tested (a Python model, so without a contract of its own) cast
-- to the contract's types, and the decision of each variant with its reason. A metric measured
-- from a source that is not configured is left out (absent, never 0: DESIGN.md section 3), and
-- counts neither as primary evidence nor as a worse guardrail. Decisions, in this order:
--   invalid        sample-ratio mismatch (srm_flag);
--   inconclusive   the primary metric's source is not configured;
--   inconclusive   on or before the end date (fixed horizon: results before it are
--                  preliminary, is_final false), or the primary metric's achieved MDE is
--                  above the registry's mde_relative (or unknown);
--   ship           the primary metric is better (in its direction) with p < 0.05 and no
--                  guardrail is worse with Holm-adjusted p < 0.05;
--   dont_ship      the primary metric is worse with p < 0.05, or a guardrail is worse;
--   no_difference  otherwise.
-- is_final: the local date of the data cut-off (var / SAYPRO_DBT_AS_OF, else now) is after
-- end_date.
with available_sources as (
    select source from {{ ref('dim_source') }} where is_available
),

tested as (
    select
        c.*,
        case c.direction when 'lower_is_better' then c.abs_effect < 0 else c.abs_effect > 0 end
            as is_better,
        case c.direction when 'lower_is_better' then c.abs_effect > 0 else c.abs_effect < 0 end
            as is_worse
    from {{ ref('int_experiment_comparisons_tested') }} as c
    join available_sources as s
      on s.source = {{ experiment_metric_attribute('c.metric_id', 'source') }}
),

experiments as (
    select
        x.experiment_id,
        x.control_variant,
        x.mde_relative,
        x.end_date,
        x.primary_metric,
        {{ experiment_metric_attribute('x.primary_metric', 'source') }} as primary_source,
        s.source is not null as primary_available,
        {{ local_date(as_of()) }} > x.end_date as is_final
    from {{ ref('int_experiments_validated') }} as x
    left join available_sources as s
      on s.source = {{ experiment_metric_attribute('x.primary_metric', 'source') }}
),

variants as (
    select
        experiment_id,
        variant,
        any_value(metric_id) filter (where is_primary) as primary_metric,
        any_value(rel_effect) filter (where is_primary) as primary_rel_effect,
        any_value(p_value) filter (where is_primary) as primary_p_value,
        any_value(achieved_mde) filter (where is_primary) as primary_mde,
        coalesce(bool_or(is_primary and p_value < 0.05 and is_better), false) as primary_better,
        coalesce(bool_or(is_primary and p_value < 0.05 and is_worse), false) as primary_worse,
        {{ string_agg_ordered('metric_id', ', ', 'metric_id') }}
            filter (where not is_primary and p_value_adjusted < 0.05 and is_worse)
            as worse_guardrails,
        any_value(srm_flag) as srm_flag,
        any_value(srm_p_value) as srm_p_value,
        any_value(units) + any_value(control_units) as units_compared
    from tested
    group by experiment_id, variant
),

decided as (
    select
        v.experiment_id,
        v.variant,
        case
            when v.srm_flag then 'invalid'
            when not e.primary_available then 'inconclusive'
            when not e.is_final then 'inconclusive'
            when v.primary_mde is null or v.primary_mde > e.mde_relative then 'inconclusive'
            when v.primary_better and v.worse_guardrails is null then 'ship'
            when v.primary_worse or v.worse_guardrails is not null then 'dont_ship'
            else 'no_difference'
        end as decision,
        case
            when v.srm_flag then {{ format_text(
                'Sample-ratio mismatch: the units per variant are not in the planned proportions '
                ~ '(chi-square p = {:.2g} < 0.001). The assignment or its tracking is broken, so '
                ~ 'no effect can be trusted: find the cause, fix it and run the experiment again.',
                ['v.srm_p_value']) }}
            when not e.primary_available then {{ format_text(
                '{} is measured from {}, which is not configured: no decision until it is '
                ~ '(its variables or its drop folder, README "Pointing it at real accounts").',
                ['e.primary_metric', 'e.primary_source']) }}
            when not e.is_final then {{ format_text(
                'Preliminary: the experiment runs until {}. Results are read once, after the end '
                ~ 'date (fixed horizon), not while it runs.', ['e.end_date']) }}
            when v.primary_mde is null then {{ format_text(
                'Too little data: the effect on {} cannot be estimated yet (a variant has fewer '
                ~ 'than 2 units, or the metric does not vary).', ['v.primary_metric']) }}
            when v.primary_mde > e.mde_relative then {{ format_text(
                'Too little data: with {} units the test could only detect a {:.0f}% change in {}, '
                ~ 'and the experiment was planned to detect {:.0f}%. Run it longer or on more '
                ~ 'traffic before deciding.',
                ['v.units_compared', '100 * v.primary_mde', 'v.primary_metric', '100 * e.mde_relative']) }}
            when v.primary_better and v.worse_guardrails is null then {{ format_text(
                '{} is better by {:+.1f}% (p = {:.2g}) and no guardrail is worse: ship {}.',
                ['v.primary_metric', '100 * v.primary_rel_effect', 'v.primary_p_value', 'v.variant']) }}
            when v.worse_guardrails is not null then {{ format_text(
                'Guardrail worse: {} (Holm-adjusted p < 0.05). Do not ship {}.',
                ['v.worse_guardrails', 'v.variant']) }}
            when v.primary_worse then {{ format_text(
                '{} is worse by {:.1f}% (p = {:.2g}): keep {}.',
                ['v.primary_metric', '-100 * v.primary_rel_effect', 'v.primary_p_value',
                 'e.control_variant']) }}
            else {{ format_text(
                'No difference in {} (p = {:.2g}) although the test could detect a {:.0f}% change: '
                ~ 'the variants perform alike; keep {} or choose on cost.',
                ['v.primary_metric', 'v.primary_p_value', '100 * v.primary_mde', 'e.control_variant']) }}
        end as decision_reason,
        e.is_final
    from variants as v
    join experiments as e using (experiment_id)
)

select
    t.experiment_id::{{ dbt.type_string() }} as experiment_id,
    t.variant::{{ dbt.type_string() }} as variant,
    t.metric_id::{{ dbt.type_string() }} as metric_id,
    t.is_primary::boolean as is_primary,
    t.units::bigint as units,
    t.value::double as value,
    t.control_value::double as control_value,
    t.abs_effect::double as abs_effect,
    t.rel_effect::double as rel_effect,
    t.ci_low::double as ci_low,
    t.ci_high::double as ci_high,
    t.p_value::double as p_value,
    t.p_value_adjusted::double as p_value_adjusted,
    t.srm_p_value::double as srm_p_value,
    t.srm_flag::boolean as srm_flag,
    t.achieved_mde::double as achieved_mde,
    d.decision::{{ dbt.type_string() }} as decision,
    d.decision_reason::{{ dbt.type_string() }} as decision_reason,
    d.is_final::boolean as is_final,
    e.control_variant::{{ dbt.type_string() }} as control_variant,
    t.control_units::bigint as control_units,
    t.variant_order::integer as variant_order,
    t.metric_kind::{{ dbt.type_string() }} as metric_kind,
    t.direction::{{ dbt.type_string() }} as direction,
    t.method::{{ dbt.type_string() }} as method,
    t.statistic::double as statistic,
    t.rel_ci_low::double as rel_ci_low,
    t.rel_ci_high::double as rel_ci_high,
    t.multi_variant_units::bigint as multi_variant_units,
    e.mde_relative::double as mde_relative,
    e.end_date::date as end_date
from tested as t
join decided as d using (experiment_id, variant)
join experiments as e using (experiment_id)
