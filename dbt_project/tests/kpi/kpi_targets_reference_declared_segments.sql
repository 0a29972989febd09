-- Every target is for `all` or a segment declared in seeds/segments.csv.
select t.kpi_id, t.segment_id
from {{ ref('kpi_targets') }} as t
left join {{ ref('segments') }} as s on s.segment_id = t.segment_id
where t.segment_id <> 'all' and s.segment_id is null
