{{
    config(
        tags=['raw_staging'],
        meta={'partition_window': {'column': 'sent_at', 'grain': 'hour'}},
    )
}}

with source as (
    select * from {{ source('raw', 'chat_events') }}
),

renamed as (
    select
        channel || ':' || event_id as chat_event_key,
        event_id,
        channel,
        channel_id,
        event_type,
        sent_at,
        source as source_name,
        user_id,
        lower(user_login) as user_login,
        display_name,
        body,
        is_action,
        emotes,
        jsonb_array_length(emotes) as native_emote_count,
        badges,
        badge_info,
        -- Exact months from badge-info (IRC); VOD exports carry no badge-info, only the badge,
        -- whose version is the months tier it shows (tier-coded: 2012 is 12 months at tier 2).
        coalesce(
            nullif(badge_info ->> 'subscriber', '')::integer,
            case
                when badges ->> 'subscriber' ~ '^[0-9]{1,9}$'
                    then (badges ->> 'subscriber')::integer % 1000
            end
        ) as subscriber_months,
        bits,
        is_first_message,
        reply_parent_id,
        source_channel_id,
        notice_kind,
        target_user_id,
        lower(target_user_login) as target_user_login,
        target_message_id,
        duration_seconds,
        params
    from source
)

select * from renamed
