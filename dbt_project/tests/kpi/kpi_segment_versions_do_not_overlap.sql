-- Two versions of one segment must not be active on the same day.
select a.segment_id, a.version, b.version as other_version
from {{ ref('dim_segment') }} as a
join {{ ref('dim_segment') }} as b
  on a.segment_id = b.segment_id and a.version < b.version
where a.active_from <= coalesce(b.active_to, date '9999-12-31')
  and b.active_from <= coalesce(a.active_to, date '9999-12-31')
