-- Emote bursts with what surrounded them, and the stream they happened in (if any).
select
    b.burst_id,
    b.channel,
    s.stream_id,
    b.emote_code,
    b.started_at,
    b.ended_at,
    b.peak_at,
    b.peak_uses,
    b.baseline_uses,
    b.burst_score,
    b.peak_messages_per_minute,
    b.nearby_subscription_count,
    b.nearby_raid_count,
    b.nearby_moderation_count,
    b.nearby_other_burst_count,
    b.nearby_other_burst_emotes
from marts.fct_emote_bursts as b
left join marts.fct_streams as s
    on
        b.channel = s.channel
        and b.peak_at >= s.started_at
        and b.peak_at < s.ended_at
order by b.channel, b.peak_at
