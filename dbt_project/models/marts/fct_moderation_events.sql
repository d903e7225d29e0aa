{{ config(tags=['daily_marts'], indexes=[{'columns': ['channel', 'moderated_at']}]) }}

select
    moderation_event_key,
    channel,
    action_type,
    moderated_at,
    target_user_login,
    duration_seconds,
    target_message_id,
    target_message_count_10m,
    target_mean_toxicity_10m,
    target_max_toxicity_10m,
    target_recent_messages,
    chat_toxicity_before_5m,
    chat_toxicity_after_5m,
    chat_toxicity_after_5m - chat_toxicity_before_5m as chat_toxicity_change
from {{ ref('int_moderation_events') }}
