{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ serialize_writes() }}", "{{ delete_partition_window('window_start_at') }}"],
        post_hook=[
            "{{ flag_earlier_burst_windows() }}",
            "{{ refresh_earlier_hype_windows() }}",
            "{{ copy_recounted_new_chatters() }}",
        ],
        tags=['hourly_marts'],
        meta={'partition_window': {'column': 'window_start_at', 'grain': 'hour'}},
        indexes=[
            {'columns': ['channel', 'window_seconds', 'window_start_at']},
            {'columns': ['window_start_at']},
        ],
    )
}}

-- Window activity with the ML flags: an emote burst running, and the predicted hype.
-- The post-hook that takes recounted new chatters reads these too:
-- depends_on: {{ ref('int_chatter_first_seen') }}
-- depends_on: {{ ref('stg_raw__chat_events') }}
with activity as (
    select *
    from {{ ref('int_chat_window_activity') }}
    where {{ in_partition_window('window_start_at') }}
),

bursts as (
    select
        channel,
        started_at,
        ended_at
    from {{ ref('stg_ml__emote_bursts') }}
    where {{ overlaps_partition_window('started_at', 'ended_at') }}
),

-- A prediction made at minute m is about minute m + 1; its label says whether m + 1 was hype.
hype as (
    select
        channel,
        window_start_at,
        hype_probability,
        is_hype_label
    from {{ ref('stg_ml__hype_predictions') }}
    where {{ in_partition_window("window_start_at + interval '1 minute'", extend_end='1 minute') }}
)

select
    activity.chat_window_key,
    activity.channel,
    activity.window_seconds,
    activity.window_start_at,
    activity.window_end_at,
    activity.message_count,
    activity.unique_chatter_count,
    activity.new_chatter_count,
    activity.mean_message_length,
    activity.emote_message_share,
    activity.mean_sentiment,
    activity.mean_toxicity,
    activity.toxicity_rate,
    activity.moderation_action_count,
    activity.subscription_count,
    activity.raid_count,
    activity.bits_total,
    exists(
        select 1
        from bursts
        where
            bursts.channel = activity.channel
            and bursts.started_at < activity.window_end_at
            and bursts.ended_at > activity.window_start_at
    ) as is_burst_window,
    hype_next.hype_probability as next_minute_hype_probability,
    -- Unknown (null) during a stream's warm-up, at its last minute, and off 1-minute windows.
    case when activity.window_seconds = 60 then hype_now.is_hype_label end as is_hype_moment
from activity
left join hype as hype_next
    on
        activity.channel = hype_next.channel
        and activity.window_start_at = hype_next.window_start_at
        and activity.window_seconds = 60
left join hype as hype_now
    on
        activity.channel = hype_now.channel
        and activity.window_start_at = hype_now.window_start_at + interval '1 minute'
        and activity.window_seconds = 60
