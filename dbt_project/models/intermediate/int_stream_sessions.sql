{{
    config(
        materialized='table',
        tags=['daily_intermediate'],
        indexes=[{'columns': ['channel', 'started_at']}],
    )
}}

-- Stream sessions: Helix streams where they are known, else runs of chat split by gaps of more
-- than 30 minutes without a message (gaps and islands over per-minute activity).
with minutes as (
    select
        channel,
        window_start_at as minute_start_at
    from {{ ref('int_chat_window_activity') }}
    where window_seconds = 60 and message_count > 0
),

helix_channels as (
    select distinct channel from {{ ref('stg_raw__helix_streams') }}
),

flagged as (
    select
        channel,
        minute_start_at,
        case
            when
                lag(minute_start_at) over (partition by channel order by minute_start_at)
                > minute_start_at - interval '30 minutes'
                then 0
            else 1
        end as is_session_start
    from minutes
    where channel not in (select helix_channels.channel from helix_channels)
),

numbered as (
    select
        channel,
        minute_start_at,
        sum(is_session_start) over (
            partition by channel order by minute_start_at rows unbounded preceding
        ) as session_number
    from flagged
),

chat_gap_sessions as (
    select
        channel,
        min(minute_start_at) as started_at,
        max(minute_start_at) + interval '1 minute' as ended_at,
        'chat_gap' as session_source,
        null::text as title,
        null::text as game_name
    from numbered
    group by channel, session_number
),

helix_sessions as (
    select
        channel,
        started_at,
        coalesce(ended_at, started_at + interval '12 hours') as ended_at,
        'helix' as session_source,
        title,
        game_name
    from {{ ref('stg_raw__helix_streams') }}
),

sessions as (
    select * from chat_gap_sessions
    union all
    select * from helix_sessions
)

select
    channel || ':' || to_char(started_at at time zone 'UTC', 'YYYYMMDD"T"HH24MI') as stream_id,
    channel,
    started_at,
    ended_at,
    session_source,
    title,
    game_name
from sessions
