{{ config(tags=['daily_marts']) }}

-- Emote bursts from the ML asset with what surrounded them (within five minutes either side).
with bursts as (
    select * from {{ ref('stg_ml__emote_bursts') }}
),

nearby_events as (
    select
        bursts.burst_id,
        count(*) filter (where events.notice_kind in {{ subscription_notice_kinds() }})
            as nearby_subscription_count,
        count(*) filter (where events.notice_kind = 'raid') as nearby_raid_count,
        count(*) filter (where events.event_type in ('timeout', 'ban', 'delete', 'clear'))
            as nearby_moderation_count
    from bursts
    inner join {{ ref('stg_raw__chat_events') }} as events
        on
            bursts.channel = events.channel
            and events.sent_at >= bursts.started_at - interval '5 minutes'
            and events.sent_at < bursts.ended_at + interval '5 minutes'
            and events.event_type in ('usernotice', 'timeout', 'ban', 'delete', 'clear')
    group by bursts.burst_id
),

other_bursts as (
    select
        bursts.burst_id,
        count(*) as nearby_other_burst_count,
        string_agg(distinct others.emote_code, ' ') as nearby_other_burst_emotes
    from bursts
    inner join bursts as others
        on
            bursts.channel = others.channel
            and bursts.burst_id <> others.burst_id
            and others.started_at < bursts.ended_at + interval '5 minutes'
            and others.ended_at > bursts.started_at - interval '5 minutes'
    group by bursts.burst_id
),

rate as (
    select
        bursts.burst_id,
        max(minutes.message_count) as peak_messages_per_minute
    from bursts
    inner join {{ ref('int_chat_window_activity') }} as minutes
        on
            bursts.channel = minutes.channel
            and minutes.window_seconds = 60
            and bursts.started_at <= minutes.window_start_at
            and bursts.ended_at > minutes.window_start_at
    group by bursts.burst_id
)

select
    bursts.burst_id,
    bursts.channel,
    bursts.emote_code,
    bursts.started_at,
    bursts.ended_at,
    bursts.peak_at,
    bursts.peak_uses,
    bursts.baseline_uses,
    bursts.burst_score,
    coalesce(rate.peak_messages_per_minute, 0)::bigint as peak_messages_per_minute,
    coalesce(nearby_events.nearby_subscription_count, 0)::bigint as nearby_subscription_count,
    coalesce(nearby_events.nearby_raid_count, 0)::bigint as nearby_raid_count,
    coalesce(nearby_events.nearby_moderation_count, 0)::bigint as nearby_moderation_count,
    coalesce(other_bursts.nearby_other_burst_count, 0)::bigint as nearby_other_burst_count,
    other_bursts.nearby_other_burst_emotes,
    bursts.burst_model_version
from bursts
left join nearby_events on bursts.burst_id = nearby_events.burst_id
left join other_bursts on bursts.burst_id = other_bursts.burst_id
left join rate on bursts.burst_id = rate.burst_id
