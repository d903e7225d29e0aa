{{
    config(
        tags=['hourly_intermediate'],
        meta={'partition_window': {'column': 'sent_at', 'grain': 'hour'}},
    )
}}

with source as (
    select * from {{ source('ml', 'message_sentiment') }}
)

select
    channel || ':' || event_id as chat_event_key,
    channel,
    event_id,
    sent_at,
    sentiment_score,
    sentiment_label,
    model_version as sentiment_model_version
from source
