{#- Rows of the model are unique on the combination of `columns` (NULLs compare equal). -#}
{% test core_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by all
having count(*) > 1
{% endtest %}
