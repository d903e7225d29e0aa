{{ config(tags=['daily_marts']) }}

with source as (
    select * from {{ source('ml', 'stream_topic_shifts') }}
)

select
    stream_id,
    channel,
    first_chat_minute_at,
    previous_stream_id,
    shift_from_previous_stream,
    model_version as topic_model_version
from source
