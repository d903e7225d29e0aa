{{
    config(
        tags=['hourly_marts'],
        meta={'partition_window': {'column': 'window_start_at', 'grain': 'hour'}},
    )
}}

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
