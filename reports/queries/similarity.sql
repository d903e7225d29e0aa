-- Pairwise channel similarity and chatter overlap.
select
    channel_a,
    channel_b,
    emote_mix_similarity,
    shared_chatter_count,
    chatter_overlap_jaccard,
    activity_shape_similarity,
    message_length_difference,
    sentiment_difference,
    overall_similarity
from marts.fct_channel_similarity
order by channel_a, channel_b
