-- Help-centre articles (knowledge base) with their labels and votes.
select
    try_cast({{ json_text('record', '$.id') }} as bigint) as article_id,
    {{ json_text('record', '$.title') }} as title,
    {{ list_map(json_text_list('record', '$.label_names'), 't', 'lower(trim(t))') }} as label_names,
    coalesce(try_cast({{ json_text('record', '$.vote_sum') }} as integer), 0) as vote_sum,
    coalesce(try_cast({{ json_text('record', '$.vote_count') }} as integer), 0) as vote_count,
    try_cast({{ json_text('record', '$.created_at') }} as {{ type_instant() }}) as created_at,
    try_cast({{ json_text('record', '$.updated_at') }} as {{ type_instant() }}) as updated_at
from {{ source('zendesk', 'articles') }}
where {{ not_quarantined('zendesk', 'articles') }}
