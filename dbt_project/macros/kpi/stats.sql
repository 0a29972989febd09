{#- Statistics for KPI values (DESIGN.md section 6, "Small samples"). All return SQL expressions. -#}

{#- Wilson score interval for a proportion: successes / trials, z = 1.96 by default.
    NULL when trials is 0 or NULL. successes is capped at trials (e.g. clicks > views). -#}
{% macro kpi_wilson_low(successes, trials, z=1.96) -%}
    {{ kpi__wilson(successes, trials, z, '-') }}
{%- endmacro %}

{% macro kpi_wilson_high(successes, trials, z=1.96) -%}
    {{ kpi__wilson(successes, trials, z, '+') }}
{%- endmacro %}

{% macro kpi__wilson(successes, trials, z, sign) -%}
    (case when coalesce(({{ trials }}), 0) > 0 then {{ 'greatest(0.0, ' if sign == '-' else 'least(1.0, ' }}
        (
            (least(({{ successes }}), ({{ trials }})) / ({{ trials }})::double + {{ z }} * {{ z }} / (2.0 * ({{ trials }})))
            {{ sign }} {{ z }} * sqrt(
                (least(({{ successes }}), ({{ trials }})) / ({{ trials }})::double)
                * (1 - least(({{ successes }}), ({{ trials }})) / ({{ trials }})::double) / ({{ trials }})
                + {{ z }} * {{ z }} / (4.0 * ({{ trials }}) * ({{ trials }}))
            )
        ) / (1 + {{ z }} * {{ z }} / ({{ trials }})::double))
    end)
{%- endmacro %}

{#- Net Promoter Score and its 95% interval from counts of promoters, detractors and answers:
    NPS = 100 (p - d); CI = NPS +/- z * 100 * sqrt((p + d - (p - d)^2) / n), p and d proportions.
    Exactly the DESIGN formula: not clamped to [-100, 100]. -#}
{% macro kpi_nps(promoters, detractors, n) -%}
    (case when coalesce(({{ n }}), 0) > 0 then 100.0 * (({{ promoters }}) - ({{ detractors }})) / ({{ n }}) end)
{%- endmacro %}

{% macro kpi_nps_ci_low(promoters, detractors, n, z=1.96) -%}
    {{ kpi__nps_ci(promoters, detractors, n, z, '-') }}
{%- endmacro %}

{% macro kpi_nps_ci_high(promoters, detractors, n, z=1.96) -%}
    {{ kpi__nps_ci(promoters, detractors, n, z, '+') }}
{%- endmacro %}

{% macro kpi__nps_ci(promoters, detractors, n, z, sign) -%}
    (case when coalesce(({{ n }}), 0) > 0 then
        100.0 * (({{ promoters }}) - ({{ detractors }})) / ({{ n }})
        {{ sign }} {{ z }} * 100.0 * sqrt(greatest(0.0,
            (({{ promoters }}) + ({{ detractors }})) / ({{ n }})::double
            - power((({{ promoters }}) - ({{ detractors }})) / ({{ n }})::double, 2)
        ) / ({{ n }}))
    end)
{%- endmacro %}

{#- Normal-approximation interval of a mean (pages_per_visit, avg_time_on_site_seconds). -#}
{% macro kpi_mean_ci(mean, sd, n, sign, z=1.96) -%}
    (case when ({{ n }}) > 1 and ({{ sd }}) is not null
        then ({{ mean }}) {{ sign }} {{ z }} * ({{ sd }}) / sqrt({{ n }}) end)
{%- endmacro %}

{#- reliability from n: suppressed < 10, indicative < 30, else reliable. -#}
{% macro kpi_reliability(n) -%}
    (case when coalesce(({{ n }}), 0) < {{ var('kpi_min_n_suppress', 10) }} then 'suppressed'
          when ({{ n }}) < {{ var('kpi_min_n_reliable', 30) }} then 'indicative'
          else 'reliable' end)
{%- endmacro %}

{% macro kpi_strength(abs_value, strong=0.5, moderate=0.3, weak=0.1) -%}
    (case when ({{ abs_value }}) is null then null
          when ({{ abs_value }}) >= {{ strong }} then 'strong'
          when ({{ abs_value }}) >= {{ moderate }} then 'moderate'
          when ({{ abs_value }}) >= {{ weak }} then 'weak'
          else 'none' end)
{%- endmacro %}

{#- kpi_values' algebraic measures of a group of observations (num, den, x): sums and counts
    that any coarser grain adds up, by name. -#}
{% macro kpi_measure_expressions() -%}
    {{ return({
        'num': 'sum(num)',
        'den': 'sum(den)',
        'n_records': 'count(*)::double',
        'n_x': 'count(x)::double',
        'sum_x': 'sum(x)',
        'sum_x2': 'sum(x * x)',
        'promoters': '(count(*) filter (where x >= 9))::double',
        'detractors': '(count(*) filter (where x <= 6))::double',
    }) }}
{%- endmacro %}

{% macro kpi_algebraic_measures() -%}
    {%- for name, expression in kpi_measure_expressions().items() %}
        {{ expression }} as {{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The sum of each measure over groups of rows that hold them (`prefix`: the relation's alias
    and a dot), named as the measure. -#}
{% macro kpi_sum_of_measures(prefix='') -%}
    {%- for name in kpi_measure_expressions() -%}
        sum({{ prefix }}{{ name }}) as {{ name }}{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- GROUP BY of one pass that yields both grains: by `columns` and month_start, and by
    `columns` and quarter_start (the other one is NULL in each row). -#}
{% macro kpi_by_month_and_quarter(columns) -%}
    group by grouping sets (({{ columns }}, month_start), ({{ columns }}, quarter_start))
{%- endmacro %}

{#- Distinct values of `id_column` of `records` (kpi_id, month_start, person_id, id_column) per
    KPI, period (month and quarter) and segment, as `measure`: an id counts once in `all` and
    once in each segment that any of its records counts in (its person a member that month).
    Reads the CTEs person_month_segments and segment_bits of kpi_values; the heavy grouping
    runs on segment combinations, not on (id, segment) pairs. Each id's segments are united
    per month first and a quarter's from its months' (the same union): the records are
    grouped once rather than once per grain (benchmarks/README.md, "The memory default"). -#}
{% macro kpi_count_distinct_by_segment(records, id_column, measure) -%}
    with per_month as (
        select r.kpi_id, r.month_start, r.{{ id_column }},
               {{ segment_set_union('s.segments') }} as segments
        from {{ records }} as r
        left join person_month_segments as s
          on s.person_id = r.person_id
         and s.month_start = r.month_start
        group by r.kpi_id, r.month_start, r.{{ id_column }}
    ),

    per_id as (
        select 'month' as period_grain, month_start as period_start, kpi_id, segments
        from per_month
        union all
        select 'quarter', quarter_start, kpi_id, {{ segment_set_union('segments') }}
        from (select kpi_id, {{ id_column }}, segments,
                     date_trunc('quarter', month_start)::date as quarter_start
              from per_month) as m
        group by quarter_start, kpi_id, {{ id_column }}
    ),

    combinations as (
        select period_grain, period_start, kpi_id, segments, count(*) as ids
        from per_id
        group by all
    )

    select period_grain, period_start, kpi_id, 'all' as segment_id, sum(ids) as {{ measure }}
    from combinations
    group by all
    union all
    select c.period_grain, c.period_start, c.kpi_id, b.segment_id, sum(c.ids)
    from combinations as c
    join segment_bits as b on {{ segment_set_has('c.segments', 'b.segment_id', 'b.bit') }}
    group by all
{%- endmacro %}
