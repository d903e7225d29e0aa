-- Each channel's chat signature.
select
    channel,
    message_count,
    chatter_count,
    mean_message_length,
    emote_message_share,
    mean_sentiment,
    toxicity_rate,
    vocabulary_size,
    top_emotes,
    activity_by_hour
from marts.fct_channel_signatures
order by channel
