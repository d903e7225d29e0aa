{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition_window('window_start_at') }}",
        tags=['hourly_intermediate'],
        indexes=[{'columns': ['channel', 'window_seconds', 'window_start_at']}],
    )
}}

-- Chat activity per channel and window (30 s, 1 min, 5 min). The sizes divide an hour, so a
-- window never straddles two hourly partitions.
with window_sizes as (
    select window_seconds
    from (values (30), (60), (300)) as sizes (window_seconds)
),

events as (
    select
        chat_event_key,
        channel,
        sent_at,
        event_type,
        notice_kind,
        user_login,
        body,
        bits
    from {{ ref('stg_raw__chat_events') }}
    where {{ in_partition_window('sent_at') }}
),

emote_messages as (
    select distinct chat_event_key
    from {{ ref('int_emote_occurrences') }}
    where {{ in_partition_window('sent_at') }}
),

sentiment as (
    select
        chat_event_key,
        sentiment_score
    from {{ ref('stg_ml__message_sentiment') }}
    where {{ in_partition_window('sent_at') }}
),

toxicity as (
    select
        chat_event_key,
        toxicity_probability,
        is_toxic
    from {{ ref('stg_ml__message_toxicity') }}
    where {{ in_partition_window('sent_at') }}
),

first_seen as (
    select
        channel,
        user_login,
        first_message_at
    from {{ ref('int_chatter_first_seen') }}
    where {{ in_partition_window('first_message_at') }}
),

messages as (
    select
        events.channel,
        events.sent_at,
        events.user_login,
        events.body,
        emote_messages.chat_event_key is not null as has_emote,
        sentiment.sentiment_score,
        toxicity.toxicity_probability,
        toxicity.is_toxic,
        first_seen.first_message_at = events.sent_at as is_chatter_first_message
    from events
    left join emote_messages on events.chat_event_key = emote_messages.chat_event_key
    left join sentiment on events.chat_event_key = sentiment.chat_event_key
    left join toxicity on events.chat_event_key = toxicity.chat_event_key
    left join first_seen
        on events.channel = first_seen.channel and events.user_login = first_seen.user_login
    where events.event_type = 'message'
),

binned_messages as (
    select
        window_sizes.window_seconds,
        messages.*,
        date_bin(
            make_interval(secs => window_sizes.window_seconds),
            messages.sent_at,
            timestamptz '2000-01-01 00:00:00+00'
        ) as window_start_at
    from messages
    cross join window_sizes
),

binned_events as (
    select
        window_sizes.window_seconds,
        events.*,
        date_bin(
            make_interval(secs => window_sizes.window_seconds),
            events.sent_at,
            timestamptz '2000-01-01 00:00:00+00'
        ) as window_start_at
    from events
    cross join window_sizes
),

message_windows as (
    select
        channel,
        window_seconds,
        window_start_at,
        count(*) as message_count,
        count(distinct user_login) as unique_chatter_count,
        count(distinct user_login) filter (where is_chatter_first_message) as new_chatter_count,
        avg(char_length(body))::double precision as mean_message_length,
        avg(case when has_emote then 1.0 else 0.0 end)::double precision as emote_message_share,
        avg(sentiment_score)::double precision as mean_sentiment,
        avg(toxicity_probability)::double precision as mean_toxicity,
        avg(case when is_toxic then 1.0 when is_toxic is not null then 0.0 end)::double precision
            as toxicity_rate
    from binned_messages
    group by channel, window_seconds, window_start_at
),

event_windows as (
    select
        channel,
        window_seconds,
        window_start_at,
        count(*) filter (where event_type in ('timeout', 'ban', 'delete', 'clear'))
            as moderation_action_count,
        count(*) filter (
            where notice_kind in ('sub', 'resub', 'subgift', 'submysterygift', 'giftpaidupgrade')
        ) as subscription_count,
        count(*) filter (where notice_kind = 'raid') as raid_count,
        coalesce(sum(bits), 0)::bigint as bits_total
    from binned_events
    group by channel, window_seconds, window_start_at
)

select
    event_windows.channel || '|' || event_windows.window_seconds || '|'
    || to_char(event_windows.window_start_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        as chat_window_key,
    event_windows.channel,
    event_windows.window_seconds,
    event_windows.window_start_at,
    event_windows.window_start_at + make_interval(secs => event_windows.window_seconds)
        as window_end_at,
    coalesce(message_windows.message_count, 0) as message_count,
    coalesce(message_windows.unique_chatter_count, 0) as unique_chatter_count,
    coalesce(message_windows.new_chatter_count, 0) as new_chatter_count,
    message_windows.mean_message_length,
    message_windows.emote_message_share,
    message_windows.mean_sentiment,
    message_windows.mean_toxicity,
    message_windows.toxicity_rate,
    event_windows.moderation_action_count,
    event_windows.subscription_count,
    event_windows.raid_count,
    event_windows.bits_total
from event_windows
left join message_windows
    on
        event_windows.channel = message_windows.channel
        and event_windows.window_seconds = message_windows.window_seconds
        and event_windows.window_start_at = message_windows.window_start_at
