-- Emote uses per channel and emote over the whole period (daily rows summed).
select
    channel,
    emote_code,
    provider,
    sum(use_count) as use_count,
    sum(message_count_with_emote) as message_count,
    max(user_count) as max_daily_users
from marts.fct_emote_usage
where window_seconds = 86400
group by channel, emote_code, provider
order by use_count desc, channel, emote_code
