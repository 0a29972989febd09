-- Every KPI of the catalogue has a computation (macros/kpi/catalog.sql) and every computation a
-- catalogue row: a KPI missing from either would silently have no values.
{%- set computed = kpi_computations().keys() | list | sort %}
select kpi_id, 'in seeds/kpi_catalog.csv, not in macros/kpi/catalog.sql' as problem
from {{ ref('kpi_catalog') }}
where {{ kpi_computation_attribute('kpi_id', 'aggregation') }} is null
{%- for kpi_id in computed %}
union all
select '{{ kpi_id }}', 'in macros/kpi/catalog.sql, not in seeds/kpi_catalog.csv'
where not exists (select 1 from {{ ref('kpi_catalog') }} where kpi_id = '{{ kpi_id }}')
{%- endfor %}
