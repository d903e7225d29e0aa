{{
    config(
        tags=['hourly_intermediate'],
        meta={'partition_window': {'column': 'sent_at', 'grain': 'hour'}},
    )
}}

with source as (
    select * from {{ source('ml', 'message_toxicity') }}
)

select
    channel || ':' || event_id as chat_event_key,
    channel,
    event_id,
    sent_at,
    toxicity_probability,
    is_toxic,
    model_version as toxicity_model_version
from source
