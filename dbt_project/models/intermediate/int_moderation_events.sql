{{
    config(
        materialized='table',
        tags=['daily_intermediate'],
        indexes=[{'columns': ['channel', 'moderated_at']}],
    )
}}

-- Each timeout, ban, deletion and clear with what led to it: the target's messages in the ten
-- minutes before, their toxicity, and the chat's toxicity five minutes before and after.
with actions as (
    select
        events.chat_event_key as moderation_event_key,
        events.channel,
        events.event_type as action_type,
        events.sent_at as moderated_at,
        coalesce(events.target_user_login, deleted.user_login) as target_user_login,
        events.duration_seconds,
        events.target_message_id
    from {{ ref('stg_raw__chat_events') }} as events
    left join lateral (
        select messages.user_login
        from {{ ref('stg_raw__chat_events') }} as messages
        where
            events.event_type = 'delete'
            and messages.channel = events.channel
            and messages.event_id = events.target_message_id
            and messages.sent_at between events.sent_at - interval '1 hour' and events.sent_at
        order by messages.sent_at
        limit 1
    ) as deleted on true
    where events.event_type in ('timeout', 'ban', 'delete', 'clear')
),

messages as (
    select
        events.channel,
        events.user_login,
        events.sent_at,
        events.body,
        toxicity.toxicity_probability
    from {{ ref('stg_raw__chat_events') }} as events
    left join {{ ref('stg_ml__message_toxicity') }} as toxicity
        on events.chat_event_key = toxicity.chat_event_key
    where events.event_type = 'message'
),

target_history as (
    select
        actions.moderation_event_key,
        count(messages.sent_at) as target_message_count_10m,
        avg(messages.toxicity_probability)::double precision as target_mean_toxicity_10m,
        max(messages.toxicity_probability)::double precision as target_max_toxicity_10m,
        (array_agg(messages.body order by messages.sent_at desc) filter (
            where messages.body is not null
        ))[1:5] as target_recent_messages
    from actions
    left join messages
        on
            actions.channel = messages.channel
            and actions.target_user_login = messages.user_login
            and messages.sent_at >= actions.moderated_at - interval '10 minutes'
            and actions.moderated_at >= messages.sent_at
    group by actions.moderation_event_key
),

chat_context as (
    select
        actions.moderation_event_key,
        avg(messages.toxicity_probability) filter (
            where messages.sent_at < actions.moderated_at
        )::double precision as chat_toxicity_before_5m,
        avg(messages.toxicity_probability) filter (
            where messages.sent_at >= actions.moderated_at
        )::double precision as chat_toxicity_after_5m
    from actions
    inner join messages
        on
            actions.channel = messages.channel
            and messages.sent_at >= actions.moderated_at - interval '5 minutes'
            and messages.sent_at < actions.moderated_at + interval '5 minutes'
    group by actions.moderation_event_key
)

select
    actions.moderation_event_key,
    actions.channel,
    actions.action_type,
    actions.moderated_at,
    actions.target_user_login,
    actions.duration_seconds,
    actions.target_message_id,
    coalesce(target_history.target_message_count_10m, 0) as target_message_count_10m,
    target_history.target_mean_toxicity_10m,
    target_history.target_max_toxicity_10m,
    target_history.target_recent_messages,
    chat_context.chat_toxicity_before_5m,
    chat_context.chat_toxicity_after_5m
from actions
left join target_history on actions.moderation_event_key = target_history.moderation_event_key
left join chat_context on actions.moderation_event_key = chat_context.moderation_event_key
