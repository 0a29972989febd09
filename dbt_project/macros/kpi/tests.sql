{#- Generic data tests used by the KPI / segment / RCA marts (prefixed kpi_). -#}

{% test kpi_unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{% test kpi_between(model, column_name, min_value=none, max_value=none) %}
    select *
    from {{ model }}
    where {{ column_name }} is not null
      and (
        false
        {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
      )
{% endtest %}
