{{ config(tags=['daily_marts']) }}

with source as (
    select * from {{ source('ml', 'stream_topics') }}
)

select
    channel,
    stream_id,
    segment_start_at,
    segment_end_at,
    topic_rank,
    topic_label,
    top_terms,
    weight as topic_weight,
    shift_from_previous,
    model_version as topic_model_version
from source
