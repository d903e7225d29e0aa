{{ config(tags=['daily_marts']) }}

select
    stream_id || '|' || to_char(segment_start_at at time zone 'UTC', 'YYYYMMDD"T"HH24MI') || '|'
    || topic_rank as topic_key,
    channel,
    stream_id,
    segment_start_at,
    segment_end_at,
    topic_rank,
    topic_label,
    top_terms,
    topic_weight,
    shift_from_previous,
    topic_model_version
from {{ ref('stg_ml__stream_topics') }}
