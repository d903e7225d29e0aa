{{ config(tags=['daily_marts']) }}

select
    channel || '|' || to_char(window_start_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI')
        as hype_prediction_key,
    channel,
    window_start_at,
    window_start_at + interval '1 minute' as predicted_minute_start_at,
    hype_probability,
    is_hype_label,
    hype_model_version
from {{ ref('stg_ml__hype_predictions') }}
