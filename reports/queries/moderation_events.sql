-- Moderation actions with their effect on chat toxicity and the stream they happened in.
select
    e.moderation_event_key,
    e.channel,
    s.stream_id,
    e.action_type,
    e.moderated_at,
    e.target_user_login,
    e.duration_seconds,
    e.target_message_count_10m,
    e.target_mean_toxicity_10m,
    e.target_max_toxicity_10m,
    e.chat_toxicity_before_5m,
    e.chat_toxicity_after_5m,
    e.chat_toxicity_change
from marts.fct_moderation_events as e
left join marts.fct_streams as s
    on
        e.channel = s.channel
        and e.moderated_at >= s.started_at
        and e.moderated_at < s.ended_at
order by e.moderated_at
