{%- do check_experiment_registry() -%}
-- One row per registered experiment (seeds/experiments.csv), checked and parsed: variant and
-- metric lists, planned shares that sum to 1 (equal when allocation is empty), and the
-- instant (UTC) by which every metric window has closed. The build stops first, with one line per problem
-- naming its experiment, when a row is wrong (macro check_experiment_registry).
with registry as (
    select
        *,
        {{ experiment_split('variants') }} as variant_list,
        {{ list_map(experiment_split('allocation'), 'a', 'a::double') }} as shares,
        {{ experiment_split('guardrail_metrics') }} as guardrail_list
    from {{ ref('experiments') }}
)

select
    experiment_id,
    name,
    hypothesis,
    unit,
    trim(campaign_name) as campaign_name,
    variant_list as variants,
    {{ list_first('variant_list') }} as control_variant,
    -- equal shares in double arithmetic (on Spark 1.0 is a decimal)
    case when {{ list_size('shares') }} = 0
         then {{ list_map('variant_list', 'v', '1.0::double / ' ~ list_size('variant_list')) }}
         else {{ list_map('shares', 'a', 'a / ' ~ list_sum('shares')) }}
    end as allocation,
    start_date,
    end_date,
    -- metric windows close 30 days after first exposure, and at the latest at the end of the
    -- local day end_date + 30
    {{ local_midnight('end_date + 31') }} as windows_close_by,
    trim(primary_metric) as primary_metric,
    guardrail_list as guardrail_metrics,
    {%- set metrics = list_concat(list_of(['trim(primary_metric)']), 'guardrail_list') %}
    {{ metrics }} as metrics,
    {{ list_map(metrics, 'm', experiment_metric_attribute('m', 'kind')) }} as metric_kinds,
    {{ list_map(metrics, 'm', experiment_metric_attribute('m', 'direction')) }} as metric_directions,
    mde_relative,
    owner,
    status
from registry
