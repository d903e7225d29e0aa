{{
    config(
        materialized='table',
        tags=['daily_intermediate'],
        indexes=[{'columns': ['channel', 'started_at']}],
    )
}}

-- Stream sessions: runs of chat split where two minutes with chat start 30 minutes or more apart
-- (gaps and islands over per-minute activity). Chat says when a stream was live; Twitch's stream
-- record (Helix, polled now and then, without an end) adds its title, game and true start when
-- it started within the 30 minutes before the chat or during it. Sessions never overlap.
with minutes as (
    select
        channel,
        window_start_at as minute_start_at
    from {{ ref('int_chat_window_activity') }}
    where window_seconds = 60 and message_count > 0
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

chat_sessions as (
    select
        channel,
        min(minute_start_at) as chat_started_at,
        max(minute_start_at) + interval '1 minute' as ended_at,
        lag(max(minute_start_at) + interval '1 minute') over (
            partition by channel order by min(minute_start_at)
        ) as previous_ended_at
    from numbered
    group by channel, session_number
),

-- The latest Helix stream that started in the 30 minutes before a session or during it, and not
-- before the previous session ended: a start that could name either goes to the earlier one.
helix_matches as (
    select distinct on (chat_sessions.channel, chat_sessions.chat_started_at)
        chat_sessions.channel,
        chat_sessions.chat_started_at,
        helix.started_at,
        helix.title,
        helix.game_name
    from chat_sessions
    inner join {{ ref('stg_raw__helix_streams') }} as helix
        on
            chat_sessions.channel = helix.channel
            and chat_sessions.chat_started_at - interval '30 minutes' <= helix.started_at
            and chat_sessions.ended_at > helix.started_at
            and (
                chat_sessions.previous_ended_at is null
                or chat_sessions.previous_ended_at <= helix.started_at
            )
    order by chat_sessions.channel asc, chat_sessions.chat_started_at asc, helix.started_at desc
),

sessions as (
    select
        chat_sessions.channel,
        least(chat_sessions.chat_started_at, helix_matches.started_at) as started_at,
        chat_sessions.ended_at,
        case when helix_matches.started_at is null then 'chat_gap' else 'helix' end
            as session_source,
        helix_matches.title,
        helix_matches.game_name
    from chat_sessions
    left join helix_matches
        on
            chat_sessions.channel = helix_matches.channel
            and chat_sessions.chat_started_at = helix_matches.chat_started_at
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
