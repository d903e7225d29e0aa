-- 30 s and 1 min windows inside each stream: the stream timeline.
select
    s.stream_id,
    w.window_seconds,
    w.window_start_at,
    w.message_count,
    w.unique_chatter_count,
    w.mean_sentiment,
    w.mean_toxicity,
    w.toxicity_rate,
    w.moderation_action_count,
    w.subscription_count,
    w.raid_count,
    w.is_burst_window,
    w.next_minute_hype_probability,
    w.is_hype_moment
from marts.fct_streams as s
inner join marts.fct_chat_windows as w
    on
        s.channel = w.channel
        and w.window_start_at >= s.started_at
        and w.window_start_at < s.ended_at
where w.window_seconds in (30, 60)
order by s.stream_id, w.window_seconds, w.window_start_at
