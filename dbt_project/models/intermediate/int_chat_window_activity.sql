{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ serialize_writes() }}", "{{ delete_partition_window('window_start_at') }}"],
        post_hook="{{ recount_later_new_chatters() }}",
        tags=['hourly_intermediate'],
        meta={'partition_window': {'column': 'window_start_at', 'grain': 'hour'}},
        indexes=[
            {'columns': ['channel', 'window_seconds', 'window_start_at']},
            {'columns': ['window_start_at']},
        ],
    )
}}

-- Chat activity per channel and window (30 s, 1 min, 5 min). The sizes divide an hour, so a
-- window never straddles two hourly partitions. Messages are reduced once to one row per
-- chatter and 30 s window, and the larger windows are rolled up from those rows: distinct
-- chatters become plain counts of grouped rows instead of sorts over every message.
with events as (
    select
        chat_event_key,
        channel,
        event_id,
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
        channel,
        event_id,
        sentiment_score
    from {{ ref('stg_ml__message_sentiment') }}
    where {{ in_partition_window('sent_at') }}
),

toxicity as (
    select
        channel,
        event_id,
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

-- One row per channel, 30 s window and chatter, with additive sums for the means.
chatter_windows_30s as (
    select
        events.channel,
        date_bin(interval '30 seconds', events.sent_at, timestamptz '2000-01-01 00:00:00+00')
            as window_start_at,
        events.user_login,
        count(*) as message_count,
        sum(char_length(events.body)) as body_length_sum,
        count(events.body) as body_count,
        count(emote_messages.chat_event_key) as emote_message_count,
        sum(sentiment.sentiment_score::double precision) as sentiment_sum,
        count(sentiment.sentiment_score) as sentiment_count,
        sum(toxicity.toxicity_probability::double precision) as toxicity_sum,
        count(toxicity.toxicity_probability) as toxicity_count,
        count(*) filter (where toxicity.is_toxic) as toxic_count,
        count(toxicity.is_toxic) as toxic_known_count,
        bool_or(first_seen.first_message_at = events.sent_at) as has_first_message
    from events
    left join emote_messages on events.chat_event_key = emote_messages.chat_event_key
    -- Joined on the tables' own keys rather than the derived text key, so the planner
    -- estimates the joins from column statistics.
    left join sentiment
        on events.channel = sentiment.channel and events.event_id = sentiment.event_id
    left join toxicity
        on events.channel = toxicity.channel and events.event_id = toxicity.event_id
    left join first_seen
        on events.channel = first_seen.channel and events.user_login = first_seen.user_login
    where events.event_type = 'message'
    group by 1, 2, 3
),

chatter_windows as (
    select
        30 as window_seconds,
        chatter_windows_30s.*
    from chatter_windows_30s
    {% for window_seconds in [60, 300] %}
        union all
        select
            {{ window_seconds }} as window_seconds,
            channel,
            date_bin(
                interval '{{ window_seconds }} seconds',
                window_start_at,
                timestamptz '2000-01-01 00:00:00+00'
            ) as window_start_at,
            user_login,
            sum(message_count)::bigint as message_count,
            sum(body_length_sum)::bigint as body_length_sum,
            sum(body_count)::bigint as body_count,
            sum(emote_message_count)::bigint as emote_message_count,
            sum(sentiment_sum) as sentiment_sum,
            sum(sentiment_count)::bigint as sentiment_count,
            sum(toxicity_sum) as toxicity_sum,
            sum(toxicity_count)::bigint as toxicity_count,
            sum(toxic_count)::bigint as toxic_count,
            sum(toxic_known_count)::bigint as toxic_known_count,
            bool_or(has_first_message) as has_first_message
        from chatter_windows_30s
        group by 2, 3, 4
    {% endfor %}
),

message_windows as (
    select
        channel,
        window_seconds,
        window_start_at,
        sum(message_count)::bigint as message_count,
        -- A null login (deleted account) counts as no chatter, as count(distinct) did.
        count(user_login) as unique_chatter_count,
        count(user_login) filter (where has_first_message) as new_chatter_count,
        (sum(body_length_sum)::double precision / nullif(sum(body_count), 0))
            as mean_message_length,
        (sum(emote_message_count)::double precision / sum(message_count)) as emote_message_share,
        (sum(sentiment_sum) / nullif(sum(sentiment_count), 0))
            as mean_sentiment,
        (sum(toxicity_sum) / nullif(sum(toxicity_count), 0)) as mean_toxicity,
        (sum(toxic_count)::double precision / nullif(sum(toxic_known_count), 0)) as toxicity_rate
    from chatter_windows
    group by 1, 2, 3
),

-- Additive event counts per 30 s window, rolled up the same way.
event_windows_30s as (
    select
        channel,
        date_bin(interval '30 seconds', sent_at, timestamptz '2000-01-01 00:00:00+00')
            as window_start_at,
        count(*) filter (where event_type in ('timeout', 'ban', 'delete', 'clear'))
            as moderation_action_count,
        count(*) filter (
            where notice_kind in {{ subscription_notice_kinds() }}
        ) as subscription_count,
        count(*) filter (where notice_kind = 'raid') as raid_count,
        coalesce(sum(bits), 0)::bigint as bits_total
    from events
    group by 1, 2
),

event_windows as (
    select
        30 as window_seconds,
        event_windows_30s.*
    from event_windows_30s
    {% for window_seconds in [60, 300] %}
        union all
        select
            {{ window_seconds }} as window_seconds,
            channel,
            date_bin(
                interval '{{ window_seconds }} seconds',
                window_start_at,
                timestamptz '2000-01-01 00:00:00+00'
            ) as window_start_at,
            sum(moderation_action_count)::bigint as moderation_action_count,
            sum(subscription_count)::bigint as subscription_count,
            sum(raid_count)::bigint as raid_count,
            sum(bits_total)::bigint as bits_total
        from event_windows_30s
        group by 2, 3
    {% endfor %}
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
