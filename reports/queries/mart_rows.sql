-- Rows per mart, for the data page.
select 'dim_channels' as mart, count(*) as row_count from marts.dim_channels
union all select 'dim_chatters', count(*) from marts.dim_chatters
union all
select 'dim_channel_chatters', count(*) from marts.dim_channel_chatters
union all select 'fct_chat_messages', count(*) from marts.fct_chat_messages
union all select 'fct_chat_windows', count(*) from marts.fct_chat_windows
union all select 'fct_emote_usage', count(*) from marts.fct_emote_usage
union all select 'fct_emote_bursts', count(*) from marts.fct_emote_bursts
union all select 'fct_streams', count(*) from marts.fct_streams
union all
select 'fct_chatter_stream_activity', count(*) from marts.fct_chatter_stream_activity
union all select 'fct_moderation_events', count(*) from marts.fct_moderation_events
union all select 'fct_topics', count(*) from marts.fct_topics
union all select 'fct_stream_topic_shifts', count(*) from marts.fct_stream_topic_shifts
union all select 'fct_stream_patterns', count(*) from marts.fct_stream_patterns
union all select 'fct_channel_signatures', count(*) from marts.fct_channel_signatures
union all select 'fct_channel_similarity', count(*) from marts.fct_channel_similarity
union all select 'fct_hype_predictions', count(*) from marts.fct_hype_predictions
