{{ config(tags=['daily_marts']) }}

with events as (
    select * from {{ ref('stg_raw__chat_events') }}
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
)

select * from channels
