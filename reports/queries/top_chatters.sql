-- The 30 most active chatters per channel (pseudonymized and filtered for opt-outs in Python,
-- which is why more rows than shown are read).
select
    channel,
    user_login,
    message_count,
    active_stream_count,
    max_subscriber_months,
    is_moderator,
    is_vip,
    moderation_received_count,
    segment,
    first_seen_at,
    last_seen_at
from (
    select
        *,
        row_number() over (partition by channel order by message_count desc, user_login) as n
    from marts.dim_channel_chatters
) as ranked
where n <= 30
order by channel, message_count desc, user_login
