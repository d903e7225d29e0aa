-- One row per channel with its totals and engagement ratios (per chatter; per streamed minute,
-- from the messages sent during its streams).
select
    c.channel,
    c.first_seen_at,
    c.last_seen_at,
    c.message_count,
    c.chatter_count,
    c.moderation_action_count,
    c.user_notice_count,
    coalesce(s.stream_count, 0) as stream_count,
    coalesce(s.streamed_minutes, 0) as streamed_minutes,
    c.message_count::float8 / nullif(c.chatter_count, 0) as messages_per_chatter,
    s.streamed_messages::float8 / nullif(s.streamed_minutes, 0) as messages_per_minute,
    s.mean_sentiment,
    s.toxicity_rate
from marts.dim_channels as c
left join (
    select
        channel,
        count(*) as stream_count,
        sum(duration_minutes) as streamed_minutes,
        sum(message_count) as streamed_messages,
        -- Message-weighted over the streams that have the figure.
        sum(mean_sentiment * message_count)
        / nullif(sum(message_count) filter (where mean_sentiment is not null), 0)
            as mean_sentiment,
        sum(toxicity_rate * message_count)
        / nullif(sum(message_count) filter (where toxicity_rate is not null), 0)
            as toxicity_rate
    from marts.fct_streams
    group by channel
) as s on c.channel = s.channel
order by c.message_count desc, c.channel
