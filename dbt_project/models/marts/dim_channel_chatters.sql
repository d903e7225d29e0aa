{{ config(tags=['daily_marts']) }}

-- One row per chatter and channel; dim_chatters rolls these up to one row per chatter.
with messages as (
    select
        channel,
        user_login,
        user_id,
        sent_at,
        subscriber_months,
        badges
    from {{ ref('stg_raw__chat_events') }}
    where event_type = 'message' and user_login is not null
),

streams as (
    select
        channel,
        user_login,
        count(*) as active_stream_count
    from {{ ref('int_chatter_stream_activity') }}
    group by channel, user_login
),

moderation as (
    select
        channel,
        target_user_login as user_login,
        count(*) as moderation_received_count
    from {{ ref('int_moderation_events') }}
    where target_user_login is not null
    group by channel, target_user_login
),

chatters as (
    select
        channel,
        user_login,
        max(user_id) as user_id,
        min(sent_at) as first_seen_at,
        max(sent_at) as last_seen_at,
        count(*) as message_count,
        max(subscriber_months) as max_subscriber_months,
        bool_or(badges ? 'moderator') as is_moderator,
        bool_or(badges ? 'vip') as is_vip
    from messages
    group by channel, user_login
)

select
    chatters.channel || '|' || chatters.user_login as chatter_key,
    chatters.channel,
    chatters.user_login,
    chatters.user_id,
    chatters.first_seen_at,
    chatters.last_seen_at,
    chatters.message_count,
    coalesce(streams.active_stream_count, 0)::bigint as active_stream_count,
    chatters.max_subscriber_months,
    chatters.is_moderator,
    chatters.is_vip,
    coalesce(moderation.moderation_received_count, 0)::bigint as moderation_received_count,
    segments.segment,
    segments.segment_confidence
from chatters
left join streams
    on chatters.channel = streams.channel and chatters.user_login = streams.user_login
left join moderation
    on chatters.channel = moderation.channel and chatters.user_login = moderation.user_login
left join {{ ref('stg_ml__chatter_segments') }} as segments
    on chatters.channel = segments.channel and chatters.user_login = segments.user_login
