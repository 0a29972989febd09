-- Help-centre articles (knowledge base) with their labels and votes.
select
    (record ->> '$.id')::bigint as article_id,
    record ->> '$.title' as title,
    list_transform(coalesce(json_extract_string(record, '$.label_names[*]'), []::varchar[]),
                   lambda t: lower(trim(t))) as label_names,
    coalesce(try_cast(record ->> '$.vote_sum' as integer), 0) as vote_sum,
    coalesce(try_cast(record ->> '$.vote_count' as integer), 0) as vote_count,
    (record ->> '$.created_at')::timestamptz as created_at,
    (record ->> '$.updated_at')::timestamptz as updated_at
from {{ source('zendesk', 'articles') }}
where {{ not_quarantined('zendesk', 'articles') }}
