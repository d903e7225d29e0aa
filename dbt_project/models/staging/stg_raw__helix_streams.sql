{{ config(tags=['raw_staging']) }}

with source as (
    select * from {{ source('raw', 'helix_streams') }}
)

select
    stream_id as helix_stream_id,
    channel,
    channel_id,
    title,
    game_name,
    started_at,
    ended_at
from source
