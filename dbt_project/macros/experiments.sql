{#- Experiments (DESIGN.md section 11): the metric catalogue and the registry check. -#}

{#- The metrics an experiment can name (primary_metric, guardrail_metrics). kind says how they
    are compared: proportion (0/1 per unit: two-proportion z), mean (per-unit value: Welch t),
    ratio (sum of numerators / sum of denominators over units: delta-method z). direction:
    which way is better. source: the source it is measured from (a metric of a source that is
    not configured is left out of experiment_results, DESIGN.md section 3). Each is computed per
    unit in int_experiment_outcomes_measured; adding one means a block there and an entry
    here. -#}
{% macro experiment_metrics() %}
    {{ return({
        'visit_conversion': {'kind': 'proportion', 'direction': 'higher_is_better', 'source': 'matomo',
            'description': 'any visit with a converted action (contact_seller or ad_post_completed) in the window'},
        'ad_ctr': {'kind': 'ratio', 'direction': 'higher_is_better', 'source': 'matomo',
            'description': 'classified-ad clicks / ad views of the window visits'},
        'registration_30d': {'kind': 'proportion', 'direction': 'higher_is_better', 'source': 'kobo',
            'description': 'a KoboToolbox registration submitted in the window'},
        'enrolment_30d': {'kind': 'proportion', 'direction': 'higher_is_better', 'source': 'moodle',
            'description': 'a Moodle student enrolment in a course starting in the window'},
        'completion_30d': {'kind': 'proportion', 'direction': 'higher_is_better', 'source': 'moodle',
            'description': 'a Moodle course (programme course) completed in the window'},
        'tickets_per_unit_30d': {'kind': 'mean', 'direction': 'lower_is_better', 'source': 'zendesk',
            'description': 'Zendesk tickets created in the window'},
    }) }}
{% endmacro %}

{#- SQL expression: the catalogue's `attribute` (kind | direction | source) of the metric id
    `expr`. -#}
{% macro experiment_metric_attribute(expr, attribute) -%}
    case {{ expr }}
    {%- for metric_id, metric in experiment_metrics().items() %}
        when '{{ metric_id }}' then '{{ metric[attribute] }}'
    {%- endfor %}
    end
{%- endmacro %}

{#- '|'-separated text as a list of trimmed, non-empty items. -#}
{% macro experiment_split(expr) -%}
    {{ list_where(list_map(split_text("coalesce(" ~ expr ~ ", '')", '|'), 'x', 'trim(x)'), 'x', "x <> ''") }}
{%- endmacro %}

{#- One row (experiment, problem) per problem of the registry `registry`. -#}
{% macro experiment_registry_problems_sql(registry) -%}
    {%- set known = experiment_metrics().keys() | list | sort -%}
    {%- set known_literals = [] -%}
    {%- for metric_id in known -%}
        {%- do known_literals.append("'" ~ metric_id ~ "'") -%}
    {%- endfor -%}
    {%- set known_list = list_of(known_literals) -%}
    with registry as (
        select
            coalesce(nullif(trim(experiment_id), ''), '(no experiment_id, name: ' || coalesce(name, '') || ')') as experiment,
            *,
            {{ list_map(split_text("coalesce(variants, '')", '|'), 'x', 'trim(x)') }} as variant_list,
            case when trim(coalesce(allocation, '')) <> ''
                 then {{ list_map(split_text('allocation', '|'), 'x', 'try_cast(trim(x) as double)') }}
            end as allocation_list,
            {{ experiment_split('guardrail_metrics') }} as guardrail_list
        from {{ registry }}
    )
    select experiment, 'experiment_id is used by ' || count(*) || ' rows' as problem
    from registry group by experiment having count(*) > 1
    union all
    select experiment, 'unit ''' || coalesce(unit, '') || ''' is neither visitor nor person'
    from registry where unit is null or unit not in ('visitor', 'person')
    union all
    select experiment, 'status ''' || coalesce(status, '') || ''' is not draft, running, stopped or concluded'
    from registry where status is null or status not in ('draft', 'running', 'stopped', 'concluded')
    union all
    select experiment, 'campaign_name is empty'
    from registry where trim(coalesce(campaign_name, '')) = ''
    union all
    select experiment, 'variants ''' || coalesce(variants, '') || ''' do not name a control and at least one other variant (''|''-separated campaign contents, control first)'
    from registry where {{ list_size('variant_list') }} < 2 or {{ list_has('variant_list', "''") }}
    union all
    select experiment, 'variants ''' || variants || ''' repeat a campaign content'
    from registry
    where {{ list_size(list_distinct(list_map('variant_list', 'x', 'lower(x)'))) }} < {{ list_size('variant_list') }}
    union all
    select experiment, 'allocation ''' || allocation || ''' does not give one positive share per variant (' || {{ list_size('variant_list') }} || ' variants; leave it empty for equal shares)'
    from registry
    where allocation_list is not null
      and ({{ list_size('allocation_list') }} <> {{ list_size('variant_list') }}
           or {{ list_size(list_where('allocation_list', 'a', 'a is null or a <= 0')) }} > 0)
    union all
    select experiment, 'primary_metric ''' || coalesce(primary_metric, '') || ''' is not a known metric ({{ known | join(", ") }})'
    from registry where not {{ list_has(known_list, "trim(coalesce(primary_metric, ''))") }}
    union all
    {%- set unknown_guardrails = list_where('guardrail_list', 'g', 'not ' ~ list_has(known_list, 'g')) %}
    select experiment, 'guardrail_metrics name unknown metrics: ' || {{ list_join(unknown_guardrails, ', ') }} || ' (known: {{ known | join(", ") }})'
    from registry where {{ list_size(unknown_guardrails) }} > 0
    union all
    select experiment, 'primary_metric ''' || primary_metric || ''' is also a guardrail metric'
    from registry where {{ list_has('guardrail_list', 'trim(primary_metric)') }}
    union all
    select experiment, 'start_date and end_date are required, start_date first'
    from registry where start_date is null or end_date is null or start_date > end_date
    union all
    select experiment, 'mde_relative must be a positive share (0.1 = a 10% effect)'
    from registry where mde_relative is null or mde_relative <= 0
    union all
    {#- Two experiments may share a campaign with different contents: a visit then exposes its
        unit to one of them. A content in both, at the same time, would expose it to both. -#}
    {%- set a_contents = list_map('a.variant_list', 'x', 'lower(x)') %}
    {%- set b_contents = list_map('b.variant_list', 'y', 'lower(y)') %}
    select a.experiment, 'dates ' || a.start_date || ' to ' || a.end_date || ' overlap those of experiment '
           || b.experiment || ' on the same campaign ''' || trim(a.campaign_name) || ''' with a campaign content of both'
    from registry as a
    join registry as b
      on lower(trim(a.campaign_name)) = lower(trim(b.campaign_name))
     and a.experiment <> b.experiment
     and a.start_date <= b.end_date and b.start_date <= a.end_date
    where {{ list_size(list_where(a_contents, 'v', list_has(b_contents, 'v'))) }} > 0
    order by 1, 2
{%- endmacro %}

{#- Stops the build with one line per problem of seeds/experiments.csv, each naming its
    experiment. Called by int_experiments_validated, the first model that reads the registry.
    Skipped at parse time and where the seed is not a table (unit tests give their own rows). -#}
{% macro check_experiment_registry() %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set seed = ref('experiments') -%}
    {#- in a unit test, ref() names the test's own rows, which have no schema -#}
    {%- set existing = adapter.get_relation(database=seed.database, schema=seed.schema,
                                            identifier=seed.identifier)
                       if seed.schema else none -%}
    {%- if existing is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set problems = run_query(experiment_registry_problems_sql(existing)) -%}
    {%- if problems.rows | length > 0 -%}
        {%- set lines = [] -%}
        {%- for row in problems.rows -%}
            {%- do lines.append("  - experiment " ~ row[0] ~ ": " ~ row[1]) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "seeds/experiments.csv has " ~ lines | length ~ " problem(s); fix these rows "
            ~ "(README, 'Experiments: add, change or stop one') and run again:\n"
            ~ lines | join("\n")) }}
    {%- endif -%}
{% endmacro %}

{#- The UTC instant at which local date `date_expr` begins (SAYPRO_TIMEZONE). -#}
{% macro local_midnight(date_expr) -%}
    {{ from_local_time(local_timezone(), '(' ~ date_expr ~ ')::timestamp') }}
{%- endmacro %}
