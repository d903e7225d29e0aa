{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=["{{ serialize_writes() }}", "{{ delete_partition_window('sent_at') }}"],
        post_hook="{{ flag_earlier_moderated_messages() }}",
        tags=['hourly_marts'],
        meta={'partition_window': {'column': 'sent_at', 'grain': 'hour'}},
        indexes=[{'columns': ['sent_at']}, {'columns': ['channel', 'sent_at']}],
    )
}}

-- New columns join an existing table (its older rows keep nulls): an upgrade needs no rebuild.
-- Only the columns used: this CTE is read three times, so PostgreSQL materializes it.
with messages as (
    select
        chat_event_key,
        event_id,
        channel,
        sent_at,
        source_name,
        user_id,
        user_login,
        body,
        is_action,
        native_emote_count,
        bits,
        subscriber_months,
        is_first_message,
        reply_parent_id
    from {{ ref('stg_raw__chat_events') }}
    where event_type = 'message' and {{ in_partition_window('sent_at') }}
),

sentiment as (
    select
        channel,
        event_id,
        sentiment_score,
        sentiment_label
    from {{ ref('stg_ml__message_sentiment') }}
    where {{ in_partition_window('sent_at') }}
),

toxicity as (
    select
        channel,
        event_id,
        toxicity_probability,
        is_toxic
    from {{ ref('stg_ml__message_toxicity') }}
    where {{ in_partition_window('sent_at') }}
),

moderation_risk as (
    select
        channel,
        event_id,
        moderation_probability
    from {{ ref('stg_ml__message_moderation_risk') }}
    where {{ in_partition_window('sent_at') }}
),

emote_counts as (
    select
        chat_event_key,
        count(*) as emote_count,
        count(*) filter (where provider <> 'twitch') as third_party_emote_count
    from {{ ref('int_emote_occurrences') }}
    where {{ in_partition_window('sent_at') }}
    group by chat_event_key
),

-- Deletions and moderation of the author that come after a message (looked up to an hour ahead:
-- both horizons are at most an hour, so the next hour's post-hook sees the rest).
later_moderation as (
    select
        channel,
        event_type,
        target_message_id,
        target_user_login,
        sent_at
    from {{ ref('stg_raw__chat_events') }}
    where
        event_type in ('delete', 'timeout', 'ban')
        and {{ in_partition_window('sent_at', extend_end='1 hour') }}
),

deleted as (
    select distinct messages.chat_event_key
    from messages
    inner join later_moderation
        on
            messages.channel = later_moderation.channel
            and later_moderation.event_type = 'delete'
            and messages.event_id = later_moderation.target_message_id
            and later_moderation.sent_at < messages.sent_at + {{ deletion_horizon() }}
),

moderated_authors as (
    select distinct messages.chat_event_key
    from messages
    inner join later_moderation
        on
            messages.channel = later_moderation.channel
            and later_moderation.event_type in ('timeout', 'ban')
            and messages.user_login = later_moderation.target_user_login
            and messages.sent_at <= later_moderation.sent_at
            and later_moderation.sent_at < messages.sent_at + {{ author_moderation_horizon() }}
)

select
    messages.chat_event_key,
    messages.event_id,
    messages.channel,
    messages.sent_at,
    messages.source_name,
    messages.user_id,
    messages.user_login,
    messages.body,
    messages.is_action,
    char_length(messages.body) as body_length,
    messages.native_emote_count,
    coalesce(emote_counts.third_party_emote_count, 0) as third_party_emote_count,
    coalesce(emote_counts.emote_count, 0) as emote_count,
    messages.bits,
    messages.subscriber_months,
    messages.is_first_message,
    messages.reply_parent_id is not null as is_reply,
    sentiment.sentiment_score,
    sentiment.sentiment_label,
    toxicity.toxicity_probability,
    toxicity.is_toxic,
    moderation_risk.moderation_probability,
    deleted.chat_event_key is not null as is_deleted,
    moderated_authors.chat_event_key is not null as was_author_moderated_after
from messages
-- Scores join on their tables' own keys, which the planner estimates from column statistics.
left join sentiment
    on messages.channel = sentiment.channel and messages.event_id = sentiment.event_id
left join toxicity
    on messages.channel = toxicity.channel and messages.event_id = toxicity.event_id
left join moderation_risk
    on messages.channel = moderation_risk.channel and messages.event_id = moderation_risk.event_id
left join emote_counts on messages.chat_event_key = emote_counts.chat_event_key
left join deleted on messages.chat_event_key = deleted.chat_event_key
left join moderated_authors on messages.chat_event_key = moderated_authors.chat_event_key
