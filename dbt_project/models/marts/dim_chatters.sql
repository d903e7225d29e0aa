{{ config(tags=['daily_marts']) }}

-- One row per chatter across every channel: the roll-up of dim_channel_chatters.
select
    user_login,
    max(user_id) as user_id,
    min(first_seen_at) as first_seen_at,
    max(last_seen_at) as last_seen_at,
    count(*)::bigint as channel_count,
    sum(message_count)::bigint as message_count,
    sum(active_stream_count)::bigint as active_stream_count,
    max(max_subscriber_months) as max_subscriber_months,
    bool_or(is_moderator) as is_moderator,
    bool_or(is_vip) as is_vip,
    sum(moderation_received_count)::bigint as moderation_received_count
from {{ ref('dim_channel_chatters') }}
group by user_login
