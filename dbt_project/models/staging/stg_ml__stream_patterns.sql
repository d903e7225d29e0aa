{{ config(tags=['daily_marts']) }}

with source as (
    select * from {{ source('ml', 'stream_patterns') }}
)

select
    stream_id,
    channel,
    activity_deciles,
    pattern as stream_pattern,
    model_version as pattern_model_version
from source
