{{ config(tags=['hourly_marts']) }}

with source as (
    select * from {{ source('ml', 'emote_bursts') }}
)

select
    burst_id,
    channel,
    emote_code,
    started_at,
    ended_at,
    closed_at,
    peak_at,
    peak_uses,
    baseline_uses,
    score as burst_score,
    model_version as burst_model_version
from source
