{%- do check_experiment_registry() -%}
-- One row per registered experiment (seeds/experiments.csv), checked and parsed: variant and
-- metric lists, planned shares that sum to 1 (equal when allocation is empty), and the
-- instant (UTC) by which every metric window has closed. The build stops first, with one line per problem
-- naming its experiment, when a row is wrong (macro check_experiment_registry).
with registry as (
    select
        *,
        {{ experiment_split('variants') }} as variant_list,
        list_transform({{ experiment_split('allocation') }}, lambda a: a::double) as shares,
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
    variant_list[1] as control_variant,
    case when len(shares) = 0
         then list_transform(variant_list, lambda v: 1.0 / len(variant_list))
         else list_transform(shares, lambda a: a / list_sum(shares))
    end as allocation,
    start_date,
    end_date,
    -- metric windows close 30 days after first exposure, and at the latest at the end of the
    -- local day end_date + 30
    {{ local_midnight('end_date + 31') }} as windows_close_by,
    trim(primary_metric) as primary_metric,
    guardrail_list as guardrail_metrics,
    [trim(primary_metric)] || guardrail_list as metrics,
    list_transform([trim(primary_metric)] || guardrail_list,
                   lambda m: {{ experiment_metric_attribute('m', 'kind') }}) as metric_kinds,
    list_transform([trim(primary_metric)] || guardrail_list,
                   lambda m: {{ experiment_metric_attribute('m', 'direction') }}) as metric_directions,
    mde_relative,
    owner,
    status
from registry
