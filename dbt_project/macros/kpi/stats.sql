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
    Reads the CTEs person_month_segments, segment_bits and kpi_bits of kpi_values.

    An id's records are many (a visitor's visits, once per web KPI each) but mostly alike, so
    they are first folded into one row per month, person and id holding the set of KPIs they
    belong to, before the segments are looked up. Per period, when an id's rows all have the
    same KPIs, or all the same segments (none included), each of its KPIs has all of its
    segments, and ids are counted per (KPIs, segments) combination; only the others (a visitor
    seen by different people for different KPIs) are split per KPI. Each combination is then
    added to each KPI and segment in it (benchmarks/README.md, "People behind a value"). -#}
{% macro kpi_count_distinct_by_segment(records, id_column, measure) -%}
    with per_person_month as (
        select r.month_start, r.person_id, r.{{ id_column }},
               {{ id_set_agg('r.kpi_id', 'k.bit', 'kpi_bits') }} as kpis
        from {{ records }} as r
        join kpi_bits as k on k.kpi_id = r.kpi_id
        where r.{{ id_column }} is not null
        group by r.month_start, r.person_id, r.{{ id_column }}
    ),

    with_segments as (
        select p.month_start, date_trunc('quarter', p.month_start)::date as quarter_start,
               p.{{ id_column }}, p.kpis, s.segments
        from per_person_month as p
        left join person_month_segments as s
          on s.person_id = p.person_id
         and s.month_start = p.month_start
    ),

    per_id as (
        select
            case when month_start is null then 'quarter' else 'month' end as period_grain,
            coalesce(month_start, quarter_start) as period_start,
            {{ id_column }},
            {{ id_set_union('kpis') }} as kpis,
            {{ id_set_union('segments') }} as segments,
            {{ id_sets_all_equal('kpis') }}
                or count(segments) = 0
                or (count(segments) = count(*) and {{ id_sets_all_equal('segments') }}) as alike
        from with_segments
        {{ kpi_by_month_and_quarter(id_column) }}
    ),

    split_per_kpi as (
        select i.period_grain, i.period_start, k.kpi_id,
               {{ id_set_union('w.segments') }} as segments
        from per_id as i
        join with_segments as w
          on w.{{ id_column }} = i.{{ id_column }}
         and i.period_start = case i.period_grain when 'month' then w.month_start
                                                  else w.quarter_start end
        join kpi_bits as k on {{ id_set_has('w.kpis', 'k.kpi_id', 'k.bit') }}
        where not i.alike
        group by i.period_grain, i.period_start, i.{{ id_column }}, k.kpi_id
    ),

    combinations as (
        select c.period_grain, c.period_start, k.kpi_id, c.segments, c.ids
        from (select period_grain, period_start, kpis, segments, count(*) as ids
              from per_id
              where alike
              group by all) as c
        join kpi_bits as k on {{ id_set_has('c.kpis', 'k.kpi_id', 'k.bit') }}
        union all
        select period_grain, period_start, kpi_id, segments, count(*)
        from split_per_kpi
        group by all
    )

    select period_grain, period_start, kpi_id, 'all' as segment_id, sum(ids) as {{ measure }}
    from combinations
    group by all
    union all
    select c.period_grain, c.period_start, c.kpi_id, b.segment_id, sum(c.ids)
    from combinations as c
    join segment_bits as b on {{ id_set_has('c.segments', 'b.segment_id', 'b.bit') }}
    group by all
{%- endmacro %}
