{{
    config(
        tags=['daily_intermediate'],
        indexes=[{'columns': ['stream_id']}, {'columns': ['channel', 'user_login']}],
    )
}}

with sessions as (
    select * from {{ ref('int_stream_sessions') }}
),

messages as (
    select
        sessions.stream_id,
        sessions.started_at as stream_started_at,
        events.channel,
        events.user_login,
        events.sent_at,
        events.chat_event_key
    from sessions
    inner join {{ ref('stg_raw__chat_events') }} as events
        on
            sessions.channel = events.channel
            and sessions.started_at <= events.sent_at
            and sessions.ended_at > events.sent_at
    where events.event_type = 'message' and events.user_login is not null
),

emote_messages as (
    select distinct chat_event_key from {{ ref('int_emote_occurrences') }}
),

moderated as (
    select distinct
        sessions.stream_id,
        moderation.target_user_login as user_login
    from sessions
    inner join {{ ref('int_moderation_events') }} as moderation
        on
            sessions.channel = moderation.channel
            and sessions.started_at <= moderation.moderated_at
            and sessions.ended_at > moderation.moderated_at
    where moderation.target_user_login is not null
),

activity as (
    select
        messages.stream_id,
        messages.channel,
        messages.user_login,
        count(*) as message_count,
        count(distinct date_trunc('minute', messages.sent_at)) as active_minutes,
        avg(case when emote_messages.chat_event_key is not null then 1.0 else 0.0 end)
            as emote_message_ratio,
        extract(epoch from min(messages.sent_at) - min(messages.stream_started_at))
            as first_message_offset_seconds
    from messages
    left join emote_messages on messages.chat_event_key = emote_messages.chat_event_key
    group by messages.stream_id, messages.channel, messages.user_login
)

select
    activity.stream_id || '|' || activity.user_login as chatter_stream_key,
    activity.stream_id,
    activity.channel,
    activity.user_login,
    activity.message_count,
    activity.active_minutes,
    activity.emote_message_ratio::double precision as emote_message_ratio,
    activity.first_message_offset_seconds::double precision as first_message_offset_seconds,
    moderated.user_login is not null as was_moderated
from activity
left join moderated
    on activity.stream_id = moderated.stream_id and activity.user_login = moderated.user_login
