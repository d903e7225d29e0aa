-- Every stream session with its totals and shape.
select
    stream_id,
    channel,
    started_at,
    ended_at,
    duration_minutes,
    session_source,
    title,
    game_name,
    message_count,
    unique_chatter_count,
    peak_messages_per_minute,
    mean_sentiment,
    toxicity_rate,
    moderation_action_count,
    subscription_count,
    raid_count,
    bits_total,
    activity_deciles,
    stream_pattern
from marts.fct_streams
order by channel, started_at
