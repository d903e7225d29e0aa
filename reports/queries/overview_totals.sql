-- Stats cards of the overview: totals over everything loaded.
select
    (select count(*) from marts.dim_channels) as channel_count,
    (select coalesce(sum(message_count), 0) from marts.dim_channels) as message_count,
    (select count(*) from marts.dim_chatters) as chatter_count,
    (select count(*) from marts.fct_streams) as stream_count,
    (
        select coalesce(sum(use_count), 0) from marts.fct_emote_usage
        where window_seconds = 86400
    ) as emote_use_count,
    (select count(*) from marts.fct_moderation_events) as moderation_action_count,
    (select coalesce(sum(user_notice_count), 0) from marts.dim_channels) as user_notice_count,
    (select min(first_seen_at) from marts.dim_channels) as first_seen_at,
    (select max(last_seen_at) from marts.dim_channels) as last_seen_at
