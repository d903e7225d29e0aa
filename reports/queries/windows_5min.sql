-- Five-minute chat windows of every channel: the time series of the overview, channel,
-- community and moderation pages.
select
    channel,
    window_start_at,
    message_count,
    unique_chatter_count,
    new_chatter_count,
    mean_sentiment,
    mean_toxicity,
    toxicity_rate,
    moderation_action_count,
    subscription_count,
    raid_count
from marts.fct_chat_windows
where window_seconds = 300
order by channel, window_start_at
