{{ config(tags=['daily_marts'], indexes=[{'columns': ['channel', 'started_at']}]) }}

with sessions as (
    select * from {{ ref('int_stream_sessions') }}
),

minutes as (
    select *
    from {{ ref('int_chat_window_activity') }}
    where window_seconds = 60
),

stream_minutes as (
    select
        sessions.stream_id,
        minutes.*
    from sessions
    inner join minutes
        on
            sessions.channel = minutes.channel
            and sessions.started_at <= minutes.window_start_at
            and sessions.ended_at > minutes.window_start_at
),

chatters as (
    select
        sessions.stream_id,
        count(distinct events.user_login) as unique_chatter_count
    from sessions
    inner join {{ ref('stg_raw__chat_events') }} as events
        on
            sessions.channel = events.channel
            and sessions.started_at <= events.sent_at
            and sessions.ended_at > events.sent_at
            and events.event_type = 'message'
    group by sessions.stream_id
),

totals as (
    select
        stream_id,
        sum(message_count) as message_count,
        max(message_count) as peak_messages_per_minute,
        sum(mean_sentiment * message_count) / nullif(sum(message_count) filter (
            where mean_sentiment is not null
        ), 0) as mean_sentiment,
        sum(toxicity_rate * message_count) / nullif(sum(message_count) filter (
            where toxicity_rate is not null
        ), 0) as toxicity_rate,
        sum(moderation_action_count) as moderation_action_count,
        sum(subscription_count) as subscription_count,
        sum(raid_count) as raid_count,
        sum(bits_total) as bits_total
    from stream_minutes
    group by stream_id
)

select
    sessions.stream_id,
    sessions.channel,
    sessions.started_at,
    sessions.ended_at,
    (extract(epoch from sessions.ended_at - sessions.started_at) / 60)::double precision
        as duration_minutes,
    sessions.session_source,
    sessions.title,
    sessions.game_name,
    coalesce(totals.message_count, 0)::bigint as message_count,
    coalesce(chatters.unique_chatter_count, 0)::bigint as unique_chatter_count,
    coalesce(totals.peak_messages_per_minute, 0)::bigint as peak_messages_per_minute,
    totals.mean_sentiment::double precision as mean_sentiment,
    totals.toxicity_rate::double precision as toxicity_rate,
    coalesce(totals.moderation_action_count, 0)::bigint as moderation_action_count,
    coalesce(totals.subscription_count, 0)::bigint as subscription_count,
    coalesce(totals.raid_count, 0)::bigint as raid_count,
    coalesce(totals.bits_total, 0)::bigint as bits_total,
    patterns.activity_deciles,
    patterns.stream_pattern
from sessions
left join totals on sessions.stream_id = totals.stream_id
left join chatters on sessions.stream_id = chatters.stream_id
left join {{ ref('stg_ml__stream_patterns') }} as patterns
    on sessions.stream_id = patterns.stream_id
