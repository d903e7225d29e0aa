{{ config(tags=['daily_marts']) }}

-- Does chat talk about something else from one stream to the next, and more so when the game
-- changes? One row per stream that has an earlier stream on its channel.
with shifts as (
    select
        stream_id,
        channel,
        previous_stream_id,
        shift_from_previous_stream,
        topic_model_version
    from {{ ref('stg_ml__stream_topic_shifts') }}
    where previous_stream_id is not null
),

sessions as (
    select
        stream_id,
        started_at,
        game_name
    from {{ ref('int_stream_sessions') }}
)

select
    shifts.stream_id,
    shifts.channel,
    current_stream.started_at,
    shifts.previous_stream_id,
    previous_stream.started_at as previous_started_at,
    current_stream.game_name,
    previous_stream.game_name as previous_game_name,
    -- Unknown (null) unless Helix named the game of both streams.
    current_stream.game_name <> previous_stream.game_name as is_game_change,
    shifts.shift_from_previous_stream as topic_shift,
    shifts.topic_model_version
from shifts
inner join sessions as current_stream on shifts.stream_id = current_stream.stream_id
inner join sessions as previous_stream on shifts.previous_stream_id = previous_stream.stream_id
