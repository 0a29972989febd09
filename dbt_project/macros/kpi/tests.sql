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

{#- Every value of column_name appears in to_column of to_model (and, with both_ways, back). -#}
{% test kpi_same_values(model, column_name, to_model, to_column) %}
    (select distinct {{ column_name }} as v from {{ model }}
     except
     select distinct {{ to_column }} from {{ to_model }})
    union all
    (select distinct {{ to_column }} from {{ to_model }}
     except
     select distinct {{ column_name }} from {{ model }})
{% endtest %}
