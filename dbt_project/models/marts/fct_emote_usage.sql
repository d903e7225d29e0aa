{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ serialize_writes() }}", "{{ delete_emote_usage_window() }}"],
        tags=['hourly_marts'],
        meta={'partition_window': {'column': 'window_start_at', 'grain': 'day'}},
        indexes=[
            {'columns': ['channel', 'window_seconds', 'window_start_at']},
            {'columns': ['window_start_at']},
        ],
    )
}}

-- Emote uses per channel, emote and window: minutes of the partition, and the whole UTC days
-- it touches. Day rows are summed from the day's hourly per-chatter rows and 5-minute message
-- counts, not re-read from the day's occurrences and messages, so a late hour stays cheap.
with occurrences as (
    select
        channel,
        sent_at,
        user_login,
        chat_event_key,
        provider,
        emote_code
    from {{ ref('int_emote_occurrences') }}
    where {{ in_partition_window('sent_at') }}
),

minute_usage as (
    select
        channel,
        60 as window_seconds,
        date_bin(interval '1 minute', sent_at, timestamptz '2000-01-01 00:00:00+00')
            as window_start_at,
        emote_code,
        min(provider) as provider,
        count(*) as use_count,
        count(distinct user_login) as user_count,
        count(distinct chat_event_key) as message_count_with_emote
    from occurrences
    group by channel, window_seconds, window_start_at, emote_code
),

day_usage as (
    select
        channel,
        86400 as window_seconds,
        date_trunc('day', hour_start_at, 'UTC') as window_start_at,
        emote_code,
        min(provider) as provider,
        sum(use_count)::bigint as use_count,
        count(distinct user_login) as user_count,
        sum(message_count_with_emote)::bigint as message_count_with_emote
    from {{ ref('int_emote_hourly_chatters') }}
    where {{ in_partition_days('hour_start_at') }}
    group by channel, window_seconds, window_start_at, emote_code
),

usage as (
    select * from minute_usage
    union all
    select * from day_usage
),

message_totals as (
    select
        channel,
        60 as window_seconds,
        window_start_at,
        message_count
    from {{ ref('int_chat_window_activity') }}
    where window_seconds = 60 and {{ in_partition_window('window_start_at') }}
    union all
    select
        channel,
        86400 as window_seconds,
        date_trunc('day', window_start_at, 'UTC') as window_start_at,
        sum(message_count) as message_count
    from {{ ref('int_chat_window_activity') }}
    where window_seconds = 300 and {{ in_partition_days('window_start_at') }}
    group by channel, window_seconds, date_trunc('day', window_start_at, 'UTC')
),

window_totals as (
    select
        channel,
        window_seconds,
        window_start_at,
        sum(use_count) as total_use_count
    from usage
    group by channel, window_seconds, window_start_at
)

select
    usage.channel || '|' || usage.window_seconds || '|'
    || to_char(usage.window_start_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '|'
    || usage.emote_code as emote_usage_key,
    usage.channel,
    usage.window_seconds,
    usage.window_start_at,
    usage.window_start_at + make_interval(secs => usage.window_seconds) as window_end_at,
    usage.emote_code,
    usage.provider,
    usage.use_count,
    usage.user_count,
    usage.message_count_with_emote,
    usage.use_count::double precision / window_totals.total_use_count as share_of_emote_uses,
    usage.message_count_with_emote::double precision
    / nullif(message_totals.message_count, 0) as share_of_messages
from usage
inner join window_totals
    on
        usage.channel = window_totals.channel
        and usage.window_seconds = window_totals.window_seconds
        and usage.window_start_at = window_totals.window_start_at
left join message_totals
    on
        usage.channel = message_totals.channel
        and usage.window_seconds = message_totals.window_seconds
        and usage.window_start_at = message_totals.window_start_at
