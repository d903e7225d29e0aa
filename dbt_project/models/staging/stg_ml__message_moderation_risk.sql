{{
    config(
        tags=['hourly_marts'],
        meta={'partition_window': {'column': 'sent_at', 'grain': 'hour'}},
    )
}}

with source as (
    select * from {{ source('ml', 'message_moderation_risk') }}
)

select
    channel || ':' || event_id as chat_event_key,
    channel,
    event_id,
    sent_at,
    moderation_probability,
    model_version as moderation_model_version
from source
