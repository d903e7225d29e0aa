{{
    config(
        tags=['daily_marts'],
        indexes=[{'columns': ['stream_id']}, {'columns': ['channel', 'user_login']}],
    )
}}

select
    activity.chatter_stream_key,
    activity.stream_id,
    activity.channel,
    activity.user_login,
    activity.message_count,
    activity.active_minutes,
    activity.emote_message_ratio,
    activity.first_message_offset_seconds,
    activity.was_moderated,
    segments.segment as stream_segment
from {{ ref('int_chatter_stream_activity') }} as activity
left join {{ ref('stg_ml__chatter_stream_segments') }} as segments
    on activity.stream_id = segments.stream_id and activity.user_login = segments.user_login
