{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        pre_hook="{{ serialize_writes() }}",
        post_hook="{{ delete_first_seen_left_without_messages() }}",
        unique_key=['channel', 'user_login'],
        on_schema_change='fail',
        tags=['hourly_intermediate'],
        indexes=[
            {'columns': ['channel', 'user_login'], 'unique': true},
            {'columns': ['first_message_at']},
        ],
        meta={'partition_window': {'column': 'first_message_at', 'grain': 'hour'}},
    )
}}

-- When each chatter first wrote in a channel, merged per window so an hour is classified
-- without scanning history. A first message before the window stands; one inside it is taken
-- from the window's messages again, since a reload can drop it (a copy kept from a better
-- source, timed later) or move it past the window. Reruns in any order converge.
with window_firsts as (
    select
        channel,
        user_login,
        min(sent_at) as first_message_at
    from {{ ref('stg_raw__chat_events') }}
    where
        event_type = 'message'
        and user_login is not null
        and {{ in_partition_window('sent_at') }}
    group by channel, user_login
)

{% if is_incremental() and var('window_start') is not none and var('window_end') is not none %}
    {%- set window_start = "'" ~ var('window_start') ~ "'::timestamptz" -%}
    {%- set window_end = "'" ~ var('window_end') ~ "'::timestamptz" %}
    ,

    -- Chatters whose first message lay in the window and has left it: their first is now the
    -- earliest after it (a chatter with none left is deleted by the post-hook).
    moved_past_window as (
        select
            events.channel,
            events.user_login,
            min(events.sent_at) as first_message_at
        from {{ this }} as known
        inner join {{ ref('stg_raw__chat_events') }} as events
            on
                known.channel = events.channel
                and known.user_login = events.user_login
        left join window_firsts
            on
                known.channel = window_firsts.channel
                and known.user_login = window_firsts.user_login
        where
            {{ in_partition_window('known.first_message_at') }}
            and window_firsts.user_login is null
            and events.event_type = 'message'
            and events.sent_at >= {{ window_end }}
        group by events.channel, events.user_login
    )

    select
        window_firsts.channel,
        window_firsts.user_login,
        case
            when known.first_message_at < {{ window_start }} then known.first_message_at
            else window_firsts.first_message_at
        end as first_message_at
    from window_firsts
    left join {{ this }} as known
        on
            window_firsts.channel = known.channel
            and window_firsts.user_login = known.user_login
    union all
    select
        channel,
        user_login,
        first_message_at
    from moved_past_window
{% else %}
    select * from window_firsts
{% endif %}
