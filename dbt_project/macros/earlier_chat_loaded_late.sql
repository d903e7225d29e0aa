{#-
    Chat loaded after the hours that follow it (a VOD export or a backfill of older hours).
    A chatter's first message then moves into the hour being built, and the later window that
    counted them as new, when it was built, no longer should. These post-hooks recount the
    windows that can have counted them: each such chatter's first message after the partition.
    Recounts are computed from scratch, so reruns and any load order end with a full rebuild's
    counts. In-order loads have no chat after the partition, so the hooks find nothing to do.
-#}

{#- (channel, window_seconds, window_start_at) of windows that may count a chatter as new who
    first wrote in the partition window: where their first message after the window falls. -#}
{% macro windows_counting_earlier_chatters() -%}
    {%- set window_end = "'" ~ var('window_end') ~ "'::timestamptz" -%}
    select distinct
        later.channel,
        sizes.window_seconds,
        date_bin(
            make_interval(secs => sizes.window_seconds),
            later.sent_at,
            timestamptz '2000-01-01 00:00:00+00'
        ) as window_start_at
    from (
        select
            events.channel,
            events.user_login,
            min(events.sent_at) as sent_at
        from {{ ref('int_chatter_first_seen') }} as first_seen
        inner join {{ ref('stg_raw__chat_events') }} as events
            on
                first_seen.channel = events.channel
                and first_seen.user_login = events.user_login
        where
            {{ in_partition_window('first_seen.first_message_at') }}
            and events.event_type = 'message'
            and events.sent_at >= {{ window_end }}
        group by events.channel, events.user_login
    ) as later
    cross join (values (30), (60), (300)) as sizes (window_seconds)
{%- endmacro %}

{#- int_chat_window_activity: recount new chatters in those later windows. -#}
{% macro recount_later_new_chatters() -%}
    {%- if is_incremental() and var('window_end') is not none -%}
        with stale as (
            {{ windows_counting_earlier_chatters() }}
        ),

        recounted as (
            select
                stale.channel,
                stale.window_seconds,
                stale.window_start_at,
                count(distinct events.user_login) filter (
                    where first_seen.first_message_at = events.sent_at
                ) as new_chatter_count
            from stale
            inner join {{ ref('stg_raw__chat_events') }} as events
                on
                    stale.channel = events.channel
                    and events.sent_at >= stale.window_start_at
                    and events.sent_at
                    < stale.window_start_at + make_interval(secs => stale.window_seconds)
            left join {{ ref('int_chatter_first_seen') }} as first_seen
                on
                    events.channel = first_seen.channel
                    and events.user_login = first_seen.user_login
            where events.event_type = 'message'
            group by stale.channel, stale.window_seconds, stale.window_start_at
        )

        update {{ this }} as activity
        set new_chatter_count = recounted.new_chatter_count
        from recounted
        where
            activity.channel = recounted.channel
            and activity.window_seconds = recounted.window_seconds
            and activity.window_start_at = recounted.window_start_at
            and activity.new_chatter_count <> recounted.new_chatter_count
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- fct_chat_windows: take the recounted new chatters of those later windows. -#}
{% macro copy_recounted_new_chatters() -%}
    {%- if is_incremental() and var('window_end') is not none -%}
        with stale as (
            {{ windows_counting_earlier_chatters() }}
        )

        update {{ this }} as windows
        set new_chatter_count = activity.new_chatter_count
        from stale
        inner join {{ ref('int_chat_window_activity') }} as activity
            on
                stale.channel = activity.channel
                and stale.window_seconds = activity.window_seconds
                and stale.window_start_at = activity.window_start_at
        where
            windows.channel = activity.channel
            and windows.window_seconds = activity.window_seconds
            and windows.window_start_at = activity.window_start_at
            and windows.new_chatter_count <> activity.new_chatter_count
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
