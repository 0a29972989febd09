{#- How each KPI of seeds/kpi_catalog is computed: the catalogue says what a KPI is (name, unit,
    direction), this says how kpi_values aggregates its observations (kpi_observations) and
    which sources it needs, so the seed holds exactly the columns of DESIGN.md section 8.
    aggregation: rate (Wilson interval), count (distinct records, no interval), median (no
    interval), mean (normal-approximation interval), nps (DESIGN.md section 6 interval).
    sources: a KPI is computed only when every one is available (configured, or holding
    records: marts.dim_source); otherwise it is absent, never 0 (DESIGN.md section 3).
    Adding a KPI: its observations in kpi_observations, an entry here, a row in the catalogue
    (the data test kpi_catalog_is_computed checks the last two agree). -#}
{% macro kpi_computations() %}
    {{ return({
        'ticket_volume': {'aggregation': 'count', 'sources': ['zendesk']},
        'first_reply_median_minutes': {'aggregation': 'median', 'sources': ['zendesk']},
        'frt_sla_compliance': {'aggregation': 'rate', 'sources': ['zendesk']},
        'resolution_sla_compliance': {'aggregation': 'rate', 'sources': ['zendesk']},
        'reopen_rate': {'aggregation': 'rate', 'sources': ['zendesk']},
        'ticket_csat': {'aggregation': 'rate', 'sources': ['zendesk']},
        'visits': {'aggregation': 'count', 'sources': ['matomo']},
        'unique_visitors': {'aggregation': 'count', 'sources': ['matomo']},
        'bounce_rate': {'aggregation': 'rate', 'sources': ['matomo']},
        'pages_per_visit': {'aggregation': 'mean', 'sources': ['matomo']},
        'avg_time_on_site_seconds': {'aggregation': 'mean', 'sources': ['matomo']},
        'ad_ctr': {'aggregation': 'rate', 'sources': ['matomo']},
        'conversion_rate': {'aggregation': 'rate', 'sources': ['matomo']},
        'first_ad_success_rate': {'aggregation': 'rate', 'sources': ['matomo']},
        'course_completion_rate': {'aggregation': 'rate', 'sources': ['moodle']},
        'event_attendance_rate': {'aggregation': 'rate', 'sources': ['moodle']},
        'pass_rate': {'aggregation': 'rate', 'sources': ['moodle']},
        'active_learners': {'aggregation': 'count', 'sources': ['moodle']},
        'nps': {'aggregation': 'nps', 'sources': ['kobo']},
        'survey_csat': {'aggregation': 'rate', 'sources': ['kobo']},
        'employment_outcome_rate': {'aggregation': 'rate', 'sources': ['kobo']},
        'negative_comment_share': {'aggregation': 'rate', 'sources': ['kobo']},
    }) }}
{% endmacro %}

{#- SQL expression: the `attribute` (aggregation, or sources '|'-separated) of the KPI id
    `expr`; NULL for a KPI without an entry. -#}
{% macro kpi_computation_attribute(expr, attribute) -%}
    case {{ expr }}
    {%- for kpi_id, kpi in kpi_computations().items() %}
        {%- set value = kpi[attribute] if kpi[attribute] is string else kpi[attribute] | join('|') %}
        when '{{ kpi_id }}' then '{{ value }}'
    {%- endfor %}
    end
{%- endmacro %}

{#- The KPIs of the catalogue whose sources are all available (marts.dim_source): the others
    are absent from the KPI marts, never 0 (DESIGN.md section 3). One KPI id per row. -#}
{% macro available_kpi_ids() -%}
    select kpi_id
    from (
        select c.kpi_id,
               {{ explode_list(split_text(kpi_computation_attribute('c.kpi_id', 'sources'), '|')) }} as needed
        from {{ ref('kpi_catalog') }} as c
    ) as t
    group by kpi_id
    having bool_and(trim(t.needed) in (
        select source from {{ ref('dim_source') }} where is_available))
{%- endmacro %}
