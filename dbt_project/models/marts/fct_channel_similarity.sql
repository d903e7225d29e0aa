{{ config(tags=['daily_marts']) }}

-- How alike two channels' chats are: emote mix (cosine over emote shares), chatter overlap
-- (Jaccard), activity shape (cosine over hour-of-day profiles) and style distances.
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

emote_similarity as (
    select
        pairs.channel_a,
        pairs.channel_b,
        sum(a.uses * b.uses)
        / nullif(max(norm_a.norm) * max(norm_b.norm), 0) as emote_mix_similarity
    from pairs
    inner join emote_vectors as a on pairs.channel_a = a.channel
    inner join emote_vectors as b on pairs.channel_b = b.channel and a.emote_code = b.emote_code
    inner join emote_norms as norm_a on pairs.channel_a = norm_a.channel
    inner join emote_norms as norm_b on pairs.channel_b = norm_b.channel
    group by pairs.channel_a, pairs.channel_b
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
        pairs.channel_a,
        pairs.channel_b,
        count(*) as shared_chatter_count
    from pairs
    inner join chatters as a on pairs.channel_a = a.channel
    inner join chatters as b on pairs.channel_b = b.channel and a.user_login = b.user_login
    group by pairs.channel_a, pairs.channel_b
),

shape as (
    select
        pairs.channel_a,
        pairs.channel_b,
        sum(ha.share * hb.share)
        / nullif(sqrt(sum(ha.share * ha.share)) * sqrt(sum(hb.share * hb.share)), 0)
            as activity_shape_similarity
    from pairs
    inner join signatures as sa on pairs.channel_a = sa.channel
    inner join signatures as sb on pairs.channel_b = sb.channel
    cross join
        lateral jsonb_array_elements_text(sa.activity_by_hour) with ordinality
            as ha_raw (share_text, hour_index)
    cross join lateral (select ha_raw.share_text::double precision as share) as ha
    inner join
        lateral jsonb_array_elements_text(sb.activity_by_hour) with ordinality
            as hb_raw (share_text, hour_index)
        on ha_raw.hour_index = hb_raw.hour_index
    cross join lateral (select hb_raw.share_text::double precision as share) as hb
    group by pairs.channel_a, pairs.channel_b
),

scored as (
    select
        pairs.channel_a,
        pairs.channel_b,
        coalesce(emote_similarity.emote_mix_similarity, 0) as emote_mix_similarity,
        coalesce(overlap.shared_chatter_count, 0) as shared_chatter_count,
        coalesce(overlap.shared_chatter_count, 0)::double precision
        / nullif(sa.chatter_count + sb.chatter_count - coalesce(overlap.shared_chatter_count, 0), 0)
            as chatter_overlap_jaccard,
        coalesce(shape.activity_shape_similarity, 0) as activity_shape_similarity,
        abs(sa.mean_message_length - sb.mean_message_length) as message_length_difference,
        abs(sa.mean_sentiment - sb.mean_sentiment) as sentiment_difference
    from pairs
    inner join signatures as sa on pairs.channel_a = sa.channel
    inner join signatures as sb on pairs.channel_b = sb.channel
    left join emote_similarity
        on
            pairs.channel_a = emote_similarity.channel_a
            and pairs.channel_b = emote_similarity.channel_b
    left join overlap on pairs.channel_a = overlap.channel_a and pairs.channel_b = overlap.channel_b
    left join shape on pairs.channel_a = shape.channel_a and pairs.channel_b = shape.channel_b
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
