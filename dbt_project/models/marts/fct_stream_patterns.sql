{{ config(tags=['daily_marts']) }}

select
    patterns.stream_id,
    patterns.channel,
    streams.started_at,
    patterns.activity_deciles,
    patterns.stream_pattern,
    patterns.pattern_model_version
from {{ ref('stg_ml__stream_patterns') }} as patterns
left join {{ ref('int_stream_sessions') }} as streams on patterns.stream_id = streams.stream_id
