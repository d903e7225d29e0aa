{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ serialize_writes() }}", "{{ delete_partition_window('hour_start_at') }}"],
        tags=['hourly_intermediate'],
        meta={'partition_window': {'column': 'hour_start_at', 'grain': 'hour'}},
        indexes=[
            {'columns': ['hour_start_at']},
        ],
    )
}}

-- Emote uses per channel, hour, emote and chatter: what the day rows of fct_emote_usage are
-- summed from. Uses and messages add up over hours; distinct chatters per day need the chatter,
-- and this is far smaller than the day's occurrences (a chatter's repeats fold into one row).
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

hourly as (
    select
        channel,
        date_trunc('hour', sent_at, 'UTC') as hour_start_at,
        emote_code,
        user_login,
        min(provider) as provider,
        count(*) as use_count,
        count(distinct chat_event_key) as message_count_with_emote
    from occurrences
    group by channel, hour_start_at, emote_code, user_login
)

select
    channel || '|' || to_char(hour_start_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24') || '|'
    || emote_code || '|' || coalesce(user_login, '') as emote_hourly_chatter_key,
    channel,
    hour_start_at,
    emote_code,
    user_login,
    provider,
    use_count,
    message_count_with_emote
from hourly
