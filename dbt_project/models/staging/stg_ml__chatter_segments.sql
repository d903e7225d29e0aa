{{ config(tags=['daily_marts']) }}

with source as (
    select * from {{ source('ml', 'chatter_segments') }}
)

select
    channel,
    user_login,
    segment,
    segment_confidence,
    model_version as segment_model_version
from source
