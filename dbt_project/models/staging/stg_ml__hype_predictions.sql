{{ config(tags=['hourly_marts']) }}

with source as (
    select * from {{ source('ml', 'hype_predictions') }}
)

select
    channel,
    window_start_at,
    hype_probability,
    is_hype_label,
    model_version as hype_model_version
from source
