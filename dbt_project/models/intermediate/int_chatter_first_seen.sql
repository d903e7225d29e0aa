{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        pre_hook="{{ serialize_writes() }}",
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

-- When each chatter first wrote in a channel. Merged per window, keeping the earliest time,
-- so an hour is classified without scanning history and reruns in any order converge.
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

{% if is_incremental() %}
    select
        window_firsts.channel,
        window_firsts.user_login,
        least(window_firsts.first_message_at, known.first_message_at) as first_message_at
    from window_firsts
    left join {{ this }} as known
        on
            window_firsts.channel = known.channel
            and window_firsts.user_login = known.user_login
{% else %}
    select * from window_firsts
{% endif %}
