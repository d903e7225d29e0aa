{{ config(tags=['daily_marts']) }}

-- How alike two channels' chats are: emote mix (cosine over emote shares), chatter overlap
-- (Jaccard), activity shape (cosine over hour-of-day profiles) and style distances.
-- Each measure is summed over what two channels share (an emote, a chatter, an hour), joined
-- item to item, so its cost follows the shared items rather than every pair times every item
-- of a channel; pairs that share nothing get 0.
with signatures as (
    select * from {{ ref('fct_channel_signatures') }}
),

pairs as (
    select
        a.channel as channel_a,
        b.channel as channel_b
    from signatures as a
    inner join signatures as b on a.channel < b.channel
),

emote_vectors as (
    select
        channel,
        emote_code,
        sum(use_count)::double precision as uses
    from {{ ref('fct_emote_usage') }}
    where window_seconds = 86400
    group by channel, emote_code
),

emote_norms as (
    select
        channel,
        sqrt(sum(uses * uses)) as norm
    from emote_vectors
    group by channel
),

emote_dot as (
    select
        a.channel as channel_a,
        b.channel as channel_b,
        sum(a.uses * b.uses) as dot
    from emote_vectors as a
    inner join emote_vectors as b on a.emote_code = b.emote_code and a.channel < b.channel
    group by a.channel, b.channel
),

chatters as (
    select distinct
        channel,
        user_login
    from {{ ref('fct_chat_messages') }}
    where user_login is not null
),

overlap as (
    select
        a.channel as channel_a,
        b.channel as channel_b,
        count(*) as shared_chatter_count
    from chatters as a
    inner join chatters as b on a.user_login = b.user_login and a.channel < b.channel
    group by a.channel, b.channel
),

hour_shares as (
    select
        signatures.channel,
        hours.hour_index,
        hours.share_text::double precision as share
    from signatures
    cross join
        lateral jsonb_array_elements_text(signatures.activity_by_hour) with ordinality
            as hours (share_text, hour_index)
),

hour_norms as (
    select
        channel,
        sqrt(sum(share * share)) as norm
    from hour_shares
    group by channel
),

hour_dot as (
    select
        a.channel as channel_a,
        b.channel as channel_b,
        sum(a.share * b.share) as dot
    from hour_shares as a
    inner join hour_shares as b on a.hour_index = b.hour_index and a.channel < b.channel
    group by a.channel, b.channel
),

scored as (
    select
        pairs.channel_a,
        pairs.channel_b,
        coalesce(emote_dot.dot / nullif(emote_norm_a.norm * emote_norm_b.norm, 0), 0)
            as emote_mix_similarity,
        coalesce(overlap.shared_chatter_count, 0) as shared_chatter_count,
        coalesce(overlap.shared_chatter_count, 0)::double precision
        / nullif(sa.chatter_count + sb.chatter_count - coalesce(overlap.shared_chatter_count, 0), 0)
            as chatter_overlap_jaccard,
        coalesce(hour_dot.dot / nullif(hour_norm_a.norm * hour_norm_b.norm, 0), 0)
            as activity_shape_similarity,
        abs(sa.mean_message_length - sb.mean_message_length) as message_length_difference,
        abs(sa.mean_sentiment - sb.mean_sentiment) as sentiment_difference
    from pairs
    inner join signatures as sa on pairs.channel_a = sa.channel
    inner join signatures as sb on pairs.channel_b = sb.channel
    left join emote_dot
        on pairs.channel_a = emote_dot.channel_a and pairs.channel_b = emote_dot.channel_b
    left join emote_norms as emote_norm_a on pairs.channel_a = emote_norm_a.channel
    left join emote_norms as emote_norm_b on pairs.channel_b = emote_norm_b.channel
    left join overlap on pairs.channel_a = overlap.channel_a and pairs.channel_b = overlap.channel_b
    left join hour_dot
        on pairs.channel_a = hour_dot.channel_a and pairs.channel_b = hour_dot.channel_b
    left join hour_norms as hour_norm_a on pairs.channel_a = hour_norm_a.channel
    left join hour_norms as hour_norm_b on pairs.channel_b = hour_norm_b.channel
)

select
    channel_a || '|' || channel_b as channel_pair_key,
    channel_a,
    channel_b,
    emote_mix_similarity::double precision as emote_mix_similarity,
    shared_chatter_count::bigint as shared_chatter_count,
    coalesce(chatter_overlap_jaccard, 0)::double precision as chatter_overlap_jaccard,
    activity_shape_similarity::double precision as activity_shape_similarity,
    message_length_difference::double precision as message_length_difference,
    sentiment_difference::double precision as sentiment_difference,
    ((emote_mix_similarity + coalesce(chatter_overlap_jaccard, 0) + activity_shape_similarity) / 3)
    ::double precision as overall_similarity
from scored
