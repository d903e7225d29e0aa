{#-
    Facts about earlier rows that only later chat reveals. A window's own build looks ahead as far
    as chat is loaded; when the hourly job builds hour H, hour H-1 was built before H was loaded.
    These post-hooks set again what the window's events reveal about the hour before it, so
    hour-by-hour runs end with the rows a rebuild of both hours gives. Flags and hype are
    recomputed from the stored chat, bursts and predictions, never adjusted, so any run order
    and a rerun of a changed or withdrawn hour converge.
-#}

{#- How long after a message a timeout or ban of its author counts as "moderated after" it. -#}
{% macro author_moderation_horizon() -%}
    interval '10 minutes'
{%- endmacro %}

{#- How long after a message its deletion counts: an hour, so the hour it was sent in or the next
    one holds the deletion, and hour-by-hour runs flag what a rebuild flags. -#}
{% macro deletion_horizon() -%}
    interval '1 hour'
{%- endmacro %}

{#- fct_chat_messages: the hour before the window, flagged again from the chat of both hours
    (the horizons reach no further), so a withdrawn or changed hour clears flags it once set. -#}
{% macro flag_earlier_moderated_messages() -%}
    {%- if is_incremental() and var('window_start') is not none -%}
        {%- set window_start = "'" ~ var('window_start') ~ "'::timestamptz" -%}
        with later as (
            select channel, event_type, target_message_id, target_user_login, sent_at
            from {{ ref('stg_raw__chat_events') }}
            where
                event_type in ('delete', 'timeout', 'ban')
                and sent_at >= {{ window_start }} - interval '1 hour'
                and sent_at < {{ window_start }} + interval '1 hour'
        ),

        revealed as (
            select
                earlier.chat_event_key,
                bool_or(
                    later.event_type = 'delete'
                    and later.target_message_id = earlier.event_id
                    and later.sent_at < earlier.sent_at + {{ deletion_horizon() }}
                ) as is_deleted,
                bool_or(
                    later.event_type in ('timeout', 'ban')
                    and later.target_user_login = earlier.user_login
                    and earlier.sent_at <= later.sent_at
                    and later.sent_at < earlier.sent_at + {{ author_moderation_horizon() }}
                ) as was_author_moderated_after
            from {{ this }} as earlier
            inner join later
                on
                    earlier.channel = later.channel
                    and (earlier.event_id = later.target_message_id
                         or earlier.user_login = later.target_user_login)
            where
                earlier.sent_at >= {{ window_start }} - interval '1 hour'
                and earlier.sent_at < {{ window_start }}
            group by earlier.chat_event_key
        ),

        -- Rows flagged now, and rows flagged before that no chat flags any more.
        flagged as (
            select
                earlier.chat_event_key,
                coalesce(revealed.is_deleted, false) as is_deleted,
                coalesce(revealed.was_author_moderated_after, false) as was_author_moderated_after
            from {{ this }} as earlier
            left join revealed on earlier.chat_event_key = revealed.chat_event_key
            where
                earlier.sent_at >= {{ window_start }} - interval '1 hour'
                and earlier.sent_at < {{ window_start }}
                and (
                    revealed.chat_event_key is not null
                    or earlier.is_deleted
                    or earlier.was_author_moderated_after
                )
        )

        update {{ this }} as messages
        set
            is_deleted = flagged.is_deleted,
            was_author_moderated_after = flagged.was_author_moderated_after
        from flagged
        where
            messages.chat_event_key = flagged.chat_event_key
            and messages.sent_at >= {{ window_start }} - interval '1 hour'
            and messages.sent_at < {{ window_start }}
            and (
                messages.is_deleted <> flagged.is_deleted
                or messages.was_author_moderated_after <> flagged.was_author_moderated_after
            )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- fct_chat_windows: windows before the window that a burst the window's run stored overlaps,
    and those of the hour before it, flagged again from the stored bursts (a rerun of the window
    can drop or shorten a burst it stored; earlier hours whose flags that lapses run again, noted
    by the bursts asset). -#}
{% macro flag_earlier_burst_windows() -%}
    {%- if is_incremental() and var('window_start') is not none -%}
        {%- set window_start = "'" ~ var('window_start') ~ "'::timestamptz" -%}
        with reach as (
            select
                channel,
                least(min(started_at), {{ window_start }} - interval '1 hour') as since
            from {{ ref('stg_ml__emote_bursts') }}
            where
                {{ in_partition_window('closed_at') }}
                and started_at < {{ window_start }}
            group by channel
        ),

        flagged as (
            select
                windows.chat_window_key,
                count(bursts.channel) > 0 as is_burst_window
            from {{ this }} as windows
            left join reach on windows.channel = reach.channel
            left join {{ ref('stg_ml__emote_bursts') }} as bursts
                on
                    windows.channel = bursts.channel
                    and bursts.started_at < windows.window_end_at
                    and bursts.ended_at > windows.window_start_at
            where
                windows.window_start_at < {{ window_start }}
                and windows.window_start_at >= coalesce(
                    reach.since, {{ window_start }} - interval '1 hour'
                )
            group by windows.chat_window_key
        )

        update {{ this }} as windows
        set is_burst_window = flagged.is_burst_window
        from flagged
        where
            windows.chat_window_key = flagged.chat_window_key
            and windows.window_start_at < {{ window_start }}
            and windows.is_burst_window <> flagged.is_burst_window
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- fct_chat_windows: hype for the minutes before the window, which the window's hype run rewrote
    (`ml.warehouse.predict_hype_window` rewrites the session gap before its start once the chat
    after it is loaded: labels of the last minutes, quiet minutes that turned out mid-stream). -#}
{% macro refresh_earlier_hype_windows() -%}
    {%- if is_incremental() and var('window_start') is not none -%}
        {%- set window_start = "'" ~ var('window_start') ~ "'::timestamptz" -%}
        with rewritten as (
            select
                windows.chat_window_key,
                hype_next.hype_probability as next_minute_hype_probability,
                hype_now.is_hype_label as is_hype_moment
            from {{ this }} as windows
            left join {{ ref('stg_ml__hype_predictions') }} as hype_next
                on
                    windows.channel = hype_next.channel
                    and windows.window_start_at = hype_next.window_start_at
            left join {{ ref('stg_ml__hype_predictions') }} as hype_now
                on
                    windows.channel = hype_now.channel
                    and windows.window_start_at = hype_now.window_start_at + interval '1 minute'
            where
                windows.window_seconds = 60
                and windows.window_start_at >= {{ window_start }} - {{ hype_rewrite_span() }}
                and windows.window_start_at < {{ window_start }}
        )

        update {{ this }} as windows
        set
            next_minute_hype_probability = rewritten.next_minute_hype_probability,
            is_hype_moment = rewritten.is_hype_moment
        from rewritten
        where
            windows.chat_window_key = rewritten.chat_window_key
            and windows.window_start_at >= {{ window_start }} - {{ hype_rewrite_span() }}
            and windows.window_start_at < {{ window_start }}
            and (
                windows.next_minute_hype_probability
                is distinct from rewritten.next_minute_hype_probability
                or windows.is_hype_moment is distinct from rewritten.is_hype_moment
            )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- How far before its start an hour's hype run rewrites (`ml.warehouse.SESSION_GAP`). -#}
{% macro hype_rewrite_span() -%}
    interval '30 minutes'
{%- endmacro %}
