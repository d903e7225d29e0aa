{{ config(tags=['daily_marts']) }}

with events as (
    select * from {{ ref('stg_raw__chat_events') }}
),

helix_users as (
    select * from {{ ref('stg_raw__helix_users') }}
),

channels as (
    select
        channel,
        max(channel_id) as channel_id,
        min(sent_at) as first_seen_at,
        max(sent_at) as last_seen_at,
        count(*) filter (where event_type = 'message') as message_count,
        count(distinct user_login) filter (where event_type = 'message') as chatter_count,
        count(*) filter (where event_type in ('timeout', 'ban', 'delete', 'clear'))
            as moderation_action_count,
        count(*) filter (where event_type = 'usernotice') as user_notice_count
    from events
    group by channel
),

-- The channel's Twitch user: by room id when chat gave one (it survives renames), else by
-- login; the most recently fetched user when a login was reused.
channel_users as (
    select distinct on (channels.channel)
        channels.channel,
        helix_users.display_name,
        helix_users.broadcaster_type,
        helix_users.user_created_at
    from channels
    inner join helix_users
        on
            channels.channel_id = helix_users.user_id
            or channels.channel = helix_users.user_login
    order by
        channels.channel asc,
        (helix_users.user_id = channels.channel_id) desc nulls last,
        helix_users.fetched_at desc,
        helix_users.user_id asc
)

select
    channels.channel,
    channels.channel_id,
    channel_users.display_name,
    channel_users.broadcaster_type,
    channel_users.user_created_at as channel_created_at,
    channels.first_seen_at,
    channels.last_seen_at,
    channels.message_count,
    channels.chatter_count,
    channels.moderation_action_count,
    channels.user_notice_count
from channels
left join channel_users on channels.channel = channel_users.channel
