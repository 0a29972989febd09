-- Help-centre articles (knowledge base) with their labels and votes.
select
    try_cast(record ->> '$.id' as bigint) as article_id,
    record ->> '$.title' as title,
    list_transform(coalesce(json_extract_string(record, '$.label_names[*]'), []::varchar[]),
                   lambda t: lower(trim(t))) as label_names,
    coalesce(try_cast(record ->> '$.vote_sum' as integer), 0) as vote_sum,
    coalesce(try_cast(record ->> '$.vote_count' as integer), 0) as vote_count,
    try_cast(record ->> '$.created_at' as timestamptz) as created_at,
    try_cast(record ->> '$.updated_at' as timestamptz) as updated_at
from {{ source('zendesk', 'articles') }}
where {{ not_quarantined('zendesk', 'articles') }}
