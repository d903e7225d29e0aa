{#- int_chatter_first_seen: a chatter whose first message in the window has gone, with no
    message left in the channel, is no chatter of it any more. -#}
{% macro delete_first_seen_left_without_messages() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as first_seen
        where
            {{ in_partition_window('first_seen.first_message_at') }}
            and not exists (
                select
                from {{ ref('stg_raw__chat_events') }} as events
                where
                    events.channel = first_seen.channel
                    and events.user_login = first_seen.user_login
                    and events.event_type = 'message'
                    and {{ in_partition_window('events.sent_at') }}
            )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
