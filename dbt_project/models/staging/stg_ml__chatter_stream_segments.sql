{{ config(tags=['daily_marts']) }}

with source as (
    select * from {{ source('ml', 'chatter_stream_segments') }}
)

select
    stream_id,
    channel,
    user_login,
    segment,
    model_version as segment_model_version
from source
