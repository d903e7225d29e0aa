{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_emote_usage_window() }}",
        tags=['hourly_marts'],
        meta={'partition_window': {'column': 'window_start_at', 'grain': 'day'}},
        indexes=[
            {'columns': ['channel', 'window_seconds', 'window_start_at']},
            {'columns': ['window_start_at']},
        ],
    )
}}

-- Emote uses per channel, emote and window: minutes of the partition, and the whole UTC days
-- it touches (a day row is rebuilt from every hour of that day loaded so far).
with occurrences as (
    select
        channel,
        sent_at,
        user_login,
        chat_event_key,
        provider,
        emote_code
    from {{ ref('int_emote_occurrences') }}
    where {{ in_partition_days('sent_at') }}
),

messages as (
    select
        channel,
        sent_at
    from {{ ref('stg_raw__chat_events') }}
    where event_type = 'message' and {{ in_partition_days('sent_at') }}
),

binned as (
    select
        60 as window_seconds,
        date_bin(
            interval '1 minute', occurrences.sent_at, timestamptz '2000-01-01 00:00:00+00'
        ) as window_start_at,
        occurrences.*
    from occurrences
    where {{ in_partition_window('occurrences.sent_at') }}
    union all
    select
        86400 as window_seconds,
        date_trunc('day', occurrences.sent_at, 'UTC') as window_start_at,
        occurrences.*
    from occurrences
),

message_totals as (
    select
        channel,
        60 as window_seconds,
        date_bin(interval '1 minute', sent_at, timestamptz '2000-01-01 00:00:00+00')
            as window_start_at,
        count(*) as message_count
    from messages
    where {{ in_partition_window('sent_at') }}
    group by channel, window_seconds, window_start_at
    union all
    select
        channel,
        86400 as window_seconds,
        date_trunc('day', sent_at, 'UTC') as window_start_at,
        count(*) as message_count
    from messages
    group by channel, window_seconds, window_start_at
),

usage as (
    select
        channel,
        window_seconds,
        window_start_at,
        emote_code,
        min(provider) as provider,
        count(*) as use_count,
        count(distinct user_login) as user_count,
        count(distinct chat_event_key) as message_count_with_emote
    from binned
    group by channel, window_seconds, window_start_at, emote_code
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
