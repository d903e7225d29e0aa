-- Every stream session with its totals, shape and how far chat's words moved from the
-- channel's previous stream.
select
    streams.stream_id,
    streams.channel,
    streams.started_at,
    streams.ended_at,
    streams.duration_minutes,
    streams.session_source,
    streams.title,
    streams.game_name,
    streams.message_count,
    streams.unique_chatter_count,
    streams.peak_messages_per_minute,
    streams.mean_sentiment,
    streams.toxicity_rate,
    streams.moderation_action_count,
    streams.subscription_count,
    streams.raid_count,
    streams.bits_total,
    streams.activity_deciles,
    streams.stream_pattern,
    shifts.topic_shift,
    shifts.previous_game_name,
    shifts.is_game_change
from marts.fct_streams as streams
left join marts.fct_stream_topic_shifts as shifts on streams.stream_id = shifts.stream_id
order by streams.channel, streams.started_at
